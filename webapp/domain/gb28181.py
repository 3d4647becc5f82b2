"""GB/T 28181 video device codes (国标编码): 20 digits in five groups.

- digits 1–8, centre code (中心编码): province 2, city 2, county 2, grassroots unit 2;
- 9–10, industry (行业编码): 00–11 public sectors, 40–79 enterprises, 80–89 residents, 90–99 other;
- 11–13, type (类型编码): 111–130 front-end devices, 131–199 cameras etc., 200–299 platform;
- 14, network (网络标识): 0–4 private net, 5 公安信息网, 6 政务网, 7 Internet, 8 社会资源接入网;
- 15–20, serial (序号).

Validation names the first bad group, so a user sees which part to fix. Of the centre code only
the province (its first two digits) is checked, and any six digits make a serial.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis.errors import UserError

CODE_LENGTH = 20

# Province-level administrative codes (GB/T 2260), the first two digits of a centre code.
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 "
    "64 65 71 81 82".split()
)

INDUSTRIES = {
    "00": "社会治安路面接入",
    "01": "社会治安社区接入",
    "02": "社会治安内部接入",
    "03": "社会治安其他接入",
    "04": "交通路面接入",
    "05": "交通卡口接入",
    "06": "交通内部接入",
    "07": "交通其他接入",
    "08": "城市管理接入",
    "09": "卫生环保接入",
    "10": "商检海关接入",
    "11": "教育部门接入",
}

DEVICE_TYPES = {
    "111": "DVR",
    "112": "视频服务器",
    "113": "编码器",
    "114": "解码器",
    "115": "视频切换矩阵",
    "116": "音频切换矩阵",
    "117": "报警控制器",
    "118": "网络视频录像机(NVR)",
    "130": "混合硬盘录像机(HVR)",
    "131": "摄像机",
    "132": "网络摄像机(IPC)",
    "133": "显示器",
    "134": "报警输入设备",
    "135": "报警输出设备",
    "136": "语音输入设备",
    "137": "语音输出设备",
    "138": "移动传输设备",
    "139": "其他外围设备",
    "200": "中心信令控制服务器",
    "201": "Web应用服务器",
    "202": "媒体分发服务器",
    "203": "代理服务器",
    "204": "安全服务器",
    "205": "报警服务器",
    "206": "数据库服务器",
    "207": "GIS服务器",
    "208": "管理服务器",
    "209": "接入网关",
    "210": "媒体存储服务器",
    "211": "信令安全路由网关",
    "215": "业务分组",
    "216": "虚拟组织",
}

# Codes a map checkpoint may carry: the front-end devices that produce video.
CAMERA_TYPES = frozenset({"131", "132"})

NETWORKS = {
    "0": "监控报警专网",
    "1": "监控报警专网",
    "2": "监控报警专网",
    "3": "监控报警专网",
    "4": "监控报警专网",
    "5": "公安信息网",
    "6": "政务网",
    "7": "Internet",
    "8": "社会资源接入网",
}


class DeviceCodeError(UserError):
    """A device code that breaks the standard; ``part`` names the offending group."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(message)
        self.part = part


@dataclass(frozen=True)
class DeviceCode:
    centre: str
    industry: str
    device_type: str
    network: str
    serial: str

    @property
    def industry_name(self) -> str:
        return industry_name(self.industry)

    @property
    def type_name(self) -> str:
        return DEVICE_TYPES[self.device_type]

    @property
    def network_name(self) -> str:
        return NETWORKS[self.network]

    def __str__(self) -> str:
        return self.centre + self.industry + self.device_type + self.network + self.serial


def industry_name(code: str) -> str:
    if code in INDUSTRIES:
        return INDUSTRIES[code]
    value = int(code)
    if 40 <= value <= 79:
        return "企业/事业单位"
    if 80 <= value <= 89:
        return "居民自建"
    if 90 <= value <= 99:
        return "其他"
    raise KeyError(code)


# (last digit, part, Chinese name) of each group, for messages that point at the bad part.
GROUPS = [
    (8, "centre", "中心编码"),
    (10, "industry", "行业编码"),
    (13, "type", "类型编码"),
    (14, "network", "网络标识"),
    (20, "serial", "序号"),
]


def _group_at(position: int) -> tuple[str, str]:
    for last, part, name in GROUPS:
        if position <= last:
            return part, name
    return "length", "超出20位"


def parse(code: str, *, camera: bool = True) -> DeviceCode:
    """Parse and validate a 20-digit code; with ``camera`` only camera types are accepted.

    Raises:
        DeviceCodeError: with a Chinese message naming the bad part.
    """
    code = (code or "").strip()
    if not code:
        raise DeviceCodeError("code", "请填写国标编码(20位数字)。")
    if not code.isascii() or not code.isdigit():
        position, bad = next(
            (i, ch) for i, ch in enumerate(code, 1) if not (ch.isascii() and ch.isdigit())
        )
        part, group = _group_at(position)
        raise DeviceCodeError(
            part,
            f"国标编码只能由数字组成:第{position}位({group})是非数字字符“{bad}”。",
        )
    if len(code) != CODE_LENGTH:
        raise DeviceCodeError("length", f"国标编码应为{CODE_LENGTH}位数字,当前为{len(code)}位。")
    centre, industry, device_type = code[:8], code[8:10], code[10:13]
    network, serial = code[13], code[14:]
    if centre[:2] not in PROVINCES:
        raise DeviceCodeError(
            "centre",
            f"第1–8位中心编码“{centre}”无效:前两位“{centre[:2]}”不是省级行政区划代码。",
        )
    try:
        industry_name(industry)
    except KeyError:
        raise DeviceCodeError(
            "industry",
            f"第9–10位行业编码“{industry}”未定义:应为00–11、40–99。",
        ) from None
    if device_type not in DEVICE_TYPES:
        raise DeviceCodeError("type", f"第11–13位类型编码“{device_type}”不是国标定义的设备类型。")
    if camera and device_type not in CAMERA_TYPES:
        raise DeviceCodeError(
            "type",
            f"第11–13位类型编码“{device_type}”({DEVICE_TYPES[device_type]})不是摄像机:"
            "监控点位应为131(摄像机)或132(网络摄像机)。",
        )
    if network not in NETWORKS:
        raise DeviceCodeError("network", f"第14位网络标识“{network}”无效:应为0–8。")
    return DeviceCode(centre, industry, device_type, network, serial)


def validation_error(code: str, *, camera: bool = True) -> str | None:
    """The Chinese message for a bad code, or None when it is valid."""
    try:
        parse(code, camera=camera)
    except DeviceCodeError as err:
        return err.message
    return None
