/*
 * gridmap — 巡查打卡 on the phone (templates/field/walk.html).
 *
 * The track: Geolocation watchPosition, each fix numbered (seq) and queued in localStorage under
 * the walk, so a reload or a dead network loses nothing. The queue goes up in batches (every
 * BATCH_MS, or at BATCH_POINTS fixes, at once when the browser comes back online); a failed
 * upload is retried with back-off, and the server stores each number once, so a batch sent
 * twice is harmless. Ending the walk first sends what is queued, then posts the form.
 * Check-ins: the points of the grid nearest the last fix, one tap each; the server measures
 * the distance and refuses one too far away, naming it.
 */
(function () {
  "use strict";

  const root = document.getElementById("walk");
  if (!root || !root.dataset.walkId) return;

  const BATCH_POINTS = 20;
  const BATCH_MS = 20000;
  const MAX_SEND = 200;
  const FIRST_RETRY_MS = 2000;
  const MAX_RETRY_MS = 60000;
  // Answers after which sending the same points again cannot help: not this worker's walk
  // (403), the walk has ended (409), points the server cannot read (413, 422).
  const FINAL_REFUSALS = [403, 409, 413, 422];
  const KEY = "gridmap.walk." + root.dataset.walkId + ".";
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  const $ = function (id) { return document.getElementById(id); };

  function load(name, fallback) {
    try {
      const value = window.localStorage.getItem(KEY + name);
      return value === null ? fallback : JSON.parse(value);
    } catch (err) {
      return fallback;
    }
  }

  function store(name, value) {
    try {
      window.localStorage.setItem(KEY + name, JSON.stringify(value));
    } catch (err) {
      /* storage full: the points stay in memory and still go up while the page is open */
    }
  }

  let queue = load("queue", []);
  let nextSeq = Math.max(Number(root.dataset.nextSeq || 0), Number(load("seq", 0)) || 0);
  let lastFix = null;
  let sending = null;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer = null;
  let watchId = null;
  let uploadedOnce = false;
  // The walk's first fix (ms): from the server, else the first this phone queued.
  let firstAt = Number(root.dataset.firstAt) || (queue.length ? queue[0].at : null);

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrf,
      },
      body: JSON.stringify(body),
      // A login that ran out answers with a redirect to the login page: seen, not followed.
      redirect: "manual",
    });
  }

  function showQueue() {
    $("walk-queued").textContent = String(queue.length);
  }

  function showWalk(walk) {
    $("walk-points").textContent = String(walk.points);
    $("walk-length").textContent = String(Math.round(walk.length_m));
    $("walk-minutes").textContent = String(Math.round(walk.minutes));
    const dropped = $("walk-dropped");
    if (walk.dropped) {
      dropped.hidden = false;
      dropped.querySelector("span").textContent = String(walk.dropped);
    }
  }

  function showNet(text, offline) {
    const line = $("walk-net");
    line.textContent = text;
    line.dataset.state = offline ? "offline" : "online";
  }

  function retryLater(explained) {
    if (retryTimer) return;
    showNet(explained ||
      "网络不可用,轨迹已保存在手机上," + Math.round(retryMs / 1000) + " 秒后重试", true);
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      flush();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }

  // Send the queue, oldest first, one request at a time; resolves true once it is empty.
  // While a retry waits its back-off, only ``force`` (ending the walk) sends earlier.
  function flush(force) {
    if (sending) return sending;
    if (!queue.length) return Promise.resolve(true);
    if (retryTimer && force !== true) return Promise.resolve(false);
    if (!navigator.onLine) {
      showNet("网络未连接,轨迹已保存在手机上,联网后自动上传", true);
      return Promise.resolve(false);
    }
    const batch = queue.slice(0, MAX_SEND);
    sending = post(root.dataset.pointsUrl, { points: batch })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          const stored = response.ok && body.walk;
          if (stored || FINAL_REFUSALS.indexOf(response.status) >= 0) {
            // Stored, or refused for good (a message says why): either way off the queue.
            const sent = new Set(batch.map(function (p) { return p.seq; }));
            queue = queue.filter(function (p) { return !sent.has(p.seq); });
            store("queue", queue);
            showQueue();
            retryMs = FIRST_RETRY_MS;
            if (stored) {
              uploadedOnce = true;
              showWalk(body.walk);
              showNet("网络正常,轨迹已上传", false);
            } else {
              showNet(body.error || "部分轨迹点未被接受。", true);
            }
            return true;
          }
          // Anything else keeps the points: a login that ran out (a redirect), a page whose
          // security token is stale (400), a server error, no network.
          const failure = new Error(String(response.status));
          if (response.type === "opaqueredirect" || response.status === 401 ||
              response.status === 400) {
            // Logged out (here or in another tab), or the page's security token is stale.
            failure.explained = "登录或页面已过期:请刷新本页(必要时重新登录)," +
              "轨迹已保存在手机上,之后自动继续上传";
          }
          throw failure;
        });
      })
      .catch(function (failure) {
        retryLater(failure && failure.explained);
        return false;
      })
      .then(function (ok) {
        sending = null;
        if (ok && queue.length) return flush(force);
        return ok && !queue.length;
      });
    return sending;
  }

  function onFix(position) {
    const c = position.coords;
    lastFix = { lon: c.longitude, lat: c.latitude, accuracy: c.accuracy };
    queue.push({
      seq: nextSeq,
      lon: c.longitude,
      lat: c.latitude,
      at: Math.round(position.timestamp || Date.now()),
      accuracy: typeof c.accuracy === "number" ? Math.round(c.accuracy * 10) / 10 : null,
    });
    nextSeq += 1;
    store("queue", queue);
    store("seq", nextSeq);
    showQueue();
    $("walk-gps").textContent = "定位精度约 " + Math.round(c.accuracy) + " 米";
    const at = queue[queue.length - 1].at;
    if (firstAt === null) firstAt = at;
    // Time walked so far by the phone's clock, between uploads (which bring the server's).
    const minutes = Math.round((at - firstAt) / 60000);
    if (minutes > Number($("walk-minutes").textContent)) {
      $("walk-minutes").textContent = String(minutes);
    }
    // The first fix goes up at once: the worker sees the walk has started on the server.
    if (queue.length >= BATCH_POINTS || !uploadedOnce) flush();
  }

  function onFixError(err) {
    $("walk-gps").textContent = err && err.code === 1
      ? "未获得位置权限:请在浏览器设置中允许本站使用位置信息"
      : "暂时无法定位,请到开阔处稍候";
  }

  // ---- check-ins ----------------------------------------------------------------------------

  function checkinMessage(text, ok) {
    const box = $("checkin-message");
    box.hidden = false;
    box.textContent = text;
    box.className = "alert " + (ok ? "info" : "error");
  }

  function listTargets(body) {
    const list = $("targets");
    list.textContent = "";
    body.targets.forEach(function (t) {
      const item = document.createElement("li");
      if (t.distance_m > body.radius_m) item.className = "far";
      const label = document.createElement("span");
      label.textContent = t.kind + " · " + t.name + "(约 " + Math.round(t.distance_m) + " 米)";
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "打卡";
      button.dataset.key = t.key;
      button.dataset.id = String(t.id);
      button.dataset.name = t.name;
      item.append(label, button);
      list.append(item);
    });
    if (!body.targets.length) checkinMessage("本网格内没有可打卡的点位。", false);
  }

  $("find-targets").addEventListener("click", function () {
    if (!lastFix) return checkinMessage("尚未获得位置,请稍候再试。", false);
    const url = root.dataset.targetsUrl + "?lon=" + lastFix.lon + "&lat=" + lastFix.lat;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(listTargets)
      .catch(function () { checkinMessage("网络未连接,查找点位和打卡需要联网。", false); });
  });

  $("targets").addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("button") : null;
    if (!button || !lastFix) return;
    button.disabled = true;
    post(root.dataset.checkinUrl, {
      key: button.dataset.key,
      id: Number(button.dataset.id),
      lon: lastFix.lon,
      lat: lastFix.lat,
      accuracy: lastFix.accuracy,
    })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.error || "打卡失败。");
          checkinMessage(body.message, true);
          const item = document.createElement("li");
          item.textContent = body.kind + " · " + body.name;
          $("checkins").append(item);
        });
      })
      .catch(function (err) {
        checkinMessage(err.message === "Failed to fetch" ? "网络未连接,打卡需要联网。" : err.message, false);
      })
      .then(function () { button.disabled = false; });
  });

  // ---- ending -------------------------------------------------------------------------------

  const form = $("end-walk");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const button = $("end-walk-button");
    const message = $("end-message");
    button.disabled = true;
    message.hidden = true;
    if (retryTimer) {
      window.clearTimeout(retryTimer);
      retryTimer = null;
    }
    flush(true).then(function (empty) {
      if (!empty || queue.length) {
        message.hidden = false;
        message.textContent = "还有 " + queue.length + " 个轨迹点未上传(网络未连接),联网后会自动上传,届时再结束巡查。";
        button.disabled = false;
        return;
      }
      if (watchId !== null) navigator.geolocation.clearWatch(watchId);
      window.localStorage.removeItem(KEY + "queue");
      window.localStorage.removeItem(KEY + "seq");
      if (window.gridmapDrafts) window.gridmapDrafts.clear(form);
      form.submit();
    });
  });

  // ---- start --------------------------------------------------------------------------------

  window.addEventListener("online", function () {
    showNet("网络已恢复,正在上传轨迹", false);
    if (retryTimer) {
      window.clearTimeout(retryTimer);
      retryTimer = null;
    }
    retryMs = FIRST_RETRY_MS;
    flush();
  });
  window.addEventListener("offline", function () {
    showNet("网络未连接,轨迹已保存在手机上,联网后自动上传", true);
  });
  window.setInterval(function () { flush(); }, BATCH_MS);
  showQueue();
  if (!navigator.onLine) showNet("网络未连接,轨迹已保存在手机上,联网后自动上传", true);
  if ("geolocation" in navigator) {
    watchId = navigator.geolocation.watchPosition(onFix, onFixError, {
      enableHighAccuracy: true,
      maximumAge: 0,
      timeout: 30000,
    });
  } else {
    $("walk-gps").textContent = "此浏览器不支持定位";
  }
  flush();
  // For tests and the curious: what is waiting to go up.
  root.walkState = function () { return { queued: queue.length, nextSeq: nextSeq }; };
  root.walkUpload = function () { return flush(true); };
})();
