"""Patrol routes on the demo network: order, lengths, times, modes, and refusals."""

import pytest
from sqlalchemy import text

from webapp.patrol.routes import (
    MAX_STOPS,
    RouteError,
    Stop,
    edges_sql,
    plan,
    stops_from_tokens,
)


def camera_tokens(connection, n: int) -> list[str]:
    ids = connection.execute(
        text("SELECT id FROM camera WHERE community_id = 1 ORDER BY id LIMIT :n"), {"n": n}
    ).scalars()
    return [f"camera:{i}" for i in ids]


def round_length_m(connection, stops: list[Stop], mode: str) -> float:
    """The street length of visiting the stops' junctions in the given order and back."""
    nodes = list(dict.fromkeys(s.node_id for s in stops))
    box = (120.0, 36.0, 121.0, 37.0)
    return connection.execute(
        text(
            "SELECT sum(r.length_m) FROM pgr_dijkstraVia(:edges, CAST(:nodes AS bigint[]),"
            " directed := :directed) v JOIN road_segment r ON r.id = v.edge"
        ),
        {"edges": edges_sql(mode, box), "nodes": [*nodes, nodes[0]], "directed": mode == "车巡"},
    ).scalar_one()


def test_a_walking_round_visits_every_stop_once_from_the_first(connection):
    tokens = camera_tokens(connection, 6)
    route = plan(connection, stops_from_tokens(connection, tokens, 2), "步行")
    assert route.stops[0].token == tokens[0]
    assert sorted(s.token for s in route.stops) == sorted(tokens)
    arrivals = [s.arrive_min for s in route.stops]
    assert arrivals == sorted(arrivals) and arrivals[0] == 0
    assert route.dwell_min == 12
    # The length is the streets walked; the travel time that length at walking pace, plus the
    # walk from each stop's junction to the stop and back.
    assert route.length_m == pytest.approx(round_length_m(connection, route.stops, "步行"))
    access_m = sum(s.access_m for s in route.stops)
    assert access_m > 0  # cameras stand beside the street, not on its junctions
    assert route.travel_min == pytest.approx((route.length_m + 2 * access_m) / 75.0)
    # The last stop's arrival, its dwell and the way back to the first stop make the total.
    last = route.stops[-1]
    assert last.arrive_min + last.dwell_min < route.total_min
    # The line starts and ends at the first stop's junction.
    assert route.coords[0] == pytest.approx(route.coords[-1])


def test_the_planned_order_is_no_longer_than_the_picked_order(connection):
    tokens = camera_tokens(connection, 10)
    picked = stops_from_tokens(connection, tokens, 0)
    route = plan(connection, stops_from_tokens(connection, tokens, 0), "步行")
    for stop, same in zip(picked, stops_from_tokens(connection, tokens, 0), strict=True):
        stop.node_id = next(s.node_id for s in route.stops if s.token == same.token)
    assert route.length_m <= round_length_m(connection, picked, "步行") + 0.01


def test_a_vehicle_keeps_off_footpaths_and_one_way_streets_against_their_direction(connection):
    tokens = camera_tokens(connection, 4)
    route = plan(connection, stops_from_tokens(connection, tokens, 0), "车巡")
    wkt = "LINESTRING(" + ",".join(f"{x} {y}" for x, y in route.coords) + ")"
    footpath_m = connection.execute(
        text(
            "SELECT coalesce(sum(ST_Length(ST_Intersection(r.geom,"
            " ST_Buffer(ST_GeomFromText(:wkt, 4326), 0.000005))::geography)), 0)"
            " FROM road_segment r WHERE r.road_class = '步行道'"
            " AND ST_Within(r.geom, ST_Buffer(ST_GeomFromText(:wkt, 4326), 0.000005))"
        ),
        {"wkt": wkt},
    ).scalar_one()
    assert footpath_m == 0
    # Make every street one-way against the direction the route drove: it must change.
    connection.execute(
        text(
            "UPDATE road_segment r SET oneway = true, geom = ST_Reverse(geom),"
            " source = target, target = source"
            " WHERE ST_Within(r.geom, ST_Buffer(ST_GeomFromText(:wkt, 4326), 0.000005))"
        ),
        {"wkt": wkt},
    )
    try:
        again = plan(connection, stops_from_tokens(connection, tokens, 0), "车巡")
    except RouteError as err:  # or no way round at all: also a correct answer
        assert "没有可通行的道路" in err.message
    else:
        assert again.coords != route.coords


@pytest.mark.parametrize(
    ("count", "message"), [(1, "至少需要 2 个"), (MAX_STOPS + 1, "最多 30 个"), (500, "最多 30 个")]
)
def test_too_few_or_too_many_stops_are_refused(connection, count, message):
    tokens = [f"point:120.37{i:04d},36.31" for i in range(count)]
    with pytest.raises(RouteError, match=message):
        stops_from_tokens(connection, tokens, 3)


def test_a_stop_off_the_network_is_refused_by_number(connection):
    tokens = [*camera_tokens(connection, 2), "point:120.9,36.9"]
    stops = stops_from_tokens(connection, tokens, 3, ["", "", "远处的点"])
    with pytest.raises(RouteError, match="第 3 个巡逻点“远处的点”不在路网上"):
        plan(connection, stops, "步行")


@pytest.mark.parametrize(
    ("tokens", "dwell", "message"),
    [
        (["camera:1", "camera:999999"], 3, "第 2 个巡逻点已不存在"),
        (["camera:1", "grid:1"], 3, "类型无效"),
        (["camera:1", "<script>"], 3, "无法识别"),
        (["camera:1", "camera:2"], 500, "停留时间"),
        (["camera:1", "camera:2"], "很久", "分钟数"),
    ],
)
def test_bad_stops_are_refused(connection, tokens, dwell, message):
    with pytest.raises(RouteError, match=message):
        stops_from_tokens(connection, tokens, dwell)


def test_an_unknown_mode_is_refused(connection):
    stops = stops_from_tokens(connection, camera_tokens(connection, 2), 3)
    with pytest.raises(RouteError, match="巡逻方式"):
        plan(connection, stops, "飞行")


def test_arrivals_count_the_walk_from_each_junction_to_its_stop(connection):
    tokens = camera_tokens(connection, 3)
    route = plan(connection, stops_from_tokens(connection, tokens, 5), "步行")
    first, second = route.stops[0], route.stops[1]
    assert first.node_id != second.node_id
    leg_m = connection.execute(
        text(
            "SELECT sum(r.length_m) FROM pgr_dijkstra(:edges, CAST(:a AS bigint),"
            " CAST(:b AS bigint), directed := false) d JOIN road_segment r ON r.id = d.edge"
        ),
        {
            "edges": edges_sql("步行", (120.0, 36.0, 121.0, 37.0)),
            "a": first.node_id,
            "b": second.node_id,
        },
    ).scalar_one()
    assert first.arrive_min == 0
    # Leaving the first stop: its dwell and the walk back to its junction; reaching the
    # second: the streets between the junctions and the walk from the second junction.
    assert second.arrive_min == pytest.approx(
        first.dwell_min + (first.access_m + leg_m + second.access_m) / 75.0, rel=1e-6
    )
    assert second.access_m > 0


def test_a_stop_picked_twice_is_refused_by_number(connection):
    tokens = camera_tokens(connection, 3)
    with pytest.raises(RouteError, match="第 4 个巡逻点与第 2 个相同"):
        stops_from_tokens(connection, [*tokens, tokens[1]], 2)
