"""Incident grouping (pure): one launch across feeds, warnings escalating, replays, windows, refinement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wirewatch.agents.detector import Evidence, Finding, default_severity
from wirewatch.agents.detector.records import empty_details
from wirewatch.agents.incidents import Incident, alert_id, assign, incident_family

T0 = datetime(2031, 5, 4, 6, 0, tzinfo=UTC)


def finding(
    kind: str = "ballistic_unspecified",
    modality: str = "occurred",
    actor: str = "North Korea",
    sentence: str = "North Korea fired a missile.",
    start: int = 0,
) -> Finding:
    return Finding(
        kind=kind,
        modality=modality,
        actor=actor,
        speaker=None,
        details=empty_details(),
        severity=default_severity(kind, modality),
        confidence=0.8,
        evidence=(Evidence(sentence, start, start + len(sentence)),),
    )


def feed_in(incidents: list[Incident], f: Finding, article: str, feed: str, at: datetime) -> tuple[Incident, bool]:
    """assign() plus the table bookkeeping the alert agent does."""
    incident, changed = assign(incidents, f, article_id=article, feed=feed, title=f"title {article}", published_at=at)
    if changed:
        incidents[:] = [i for i in incidents if i.incident_id != incident.incident_id] + [incident]
    return incident, changed


def test_five_feeds_one_launch_one_incident() -> None:
    incidents: list[Incident] = []
    for n in range(5):
        f = finding(sentence=f"Report {n}: North Korea fired a ballistic missile into the sea.")
        _, changed = feed_in(incidents, f, f"a{n}", f"feed{n}", T0 + timedelta(hours=n))
        assert changed
    assert len(incidents) == 1
    only = incidents[0]
    assert only.article_ids == [f"a{n}" for n in range(5)]
    assert only.feeds == [f"feed{n}" for n in range(5)]
    assert only.alert_count == 5
    assert only.first_seen.startswith("2031-05-04T06:00") and only.last_seen.startswith("2031-05-04T10:00")


def test_warning_then_launch_escalate_one_incident() -> None:
    # Was "two incidents": a warning of an ICBM launch and the launch reported hours later are one event to
    # a desk (the warning came true), so the incident escalates under the same id instead of a second one.
    incidents: list[Incident] = []
    warn, _ = feed_in(incidents, finding("icbm", "possible", sentence="It may launch an ICBM."), "w1", "f", T0)
    launch, changed = feed_in(
        incidents,
        finding("icbm", "occurred", sentence="It launched an ICBM."),
        "l1",
        "f",
        T0 + timedelta(hours=5),
    )
    assert changed and warn.incident_id == launch.incident_id and len(incidents) == 1
    assert (warn.modality, warn.max_severity, warn.version) == ("possible", "high", 1)
    assert (launch.modality, launch.max_severity, launch.version) == ("occurred", "critical", 2)
    assert launch.escalated_from == "possible" and launch.occurred_at == "2031-05-04T11:00:00Z"
    assert launch.article_ids == ["w1", "l1"]
    # another outlet's copy of the launch joins without raising the version; a replay changes nothing
    copy, changed = feed_in(
        incidents, finding("icbm", "occurred", sentence="Pyongyang fired an ICBM."), "l2", "g", T0 + timedelta(hours=6)
    )
    assert changed and copy.incident_id == warn.incident_id and copy.version == 2
    assert feed_in(
        incidents, finding("icbm", "occurred", sentence="Pyongyang fired an ICBM."), "l2", "g", T0 + timedelta(hours=6)
    ) == (copy, False)
    # a late copy of the warning (published before the launch report) belongs to it too
    late, changed = feed_in(
        incidents, finding("icbm", "threatened", sentence="KCNA: we will launch."), "w2", "h", T0 + timedelta(hours=1)
    )
    assert changed and late.incident_id == warn.incident_id and late.modality == "occurred"
    assert late.version == 2 and len(incidents) == 1


def test_warning_after_a_launch_or_in_the_same_article_is_another_incident() -> None:
    incidents: list[Incident] = []
    launch, _ = feed_in(incidents, finding("icbm", "occurred", sentence="It launched an ICBM."), "a1", "f", T0)
    # "it may launch another": published after the launch, about the next one
    later, _ = feed_in(
        incidents,
        finding("icbm", "possible", sentence="It may launch another ICBM."),
        "a2",
        "f",
        T0 + timedelta(hours=2),
    )
    assert later.incident_id != launch.incident_id and later.modality == "possible"
    # one article, one published time: "it fired one and may fire another" are two events
    same: list[Incident] = []
    warn, _ = feed_in(same, finding("icbm", "possible", sentence="It may launch an ICBM soon."), "b1", "f", T0)
    fired, _ = feed_in(same, finding("icbm", "occurred", sentence="It launched an ICBM.", start=40), "b1", "f", T0)
    assert warn.incident_id != fired.incident_id and len(same) == 2


def test_launch_escalates_only_a_warning_of_its_family_within_the_window() -> None:
    incidents: list[Incident] = []
    warn, _ = feed_in(incidents, finding("icbm", "possible", sentence="It may launch an ICBM."), "w1", "f", T0)
    # a short-range launch, an unnamed "ballistic missile", a launch after the window: none is the ICBM
    srbm, _ = feed_in(
        incidents, finding("srbm", "occurred", sentence="It fired an SRBM."), "s1", "f", T0 + timedelta(hours=1)
    )
    unnamed, _ = feed_in(
        incidents, finding(sentence="It fired a ballistic missile."), "u1", "f", T0 + timedelta(hours=2)
    )
    late, _ = feed_in(
        incidents, finding("icbm", "occurred", sentence="It launched an ICBM."), "l1", "f", T0 + timedelta(hours=49)
    )
    assert warn.incident_id not in {srbm.incident_id, unnamed.incident_id, late.incident_id}
    assert next(i for i in incidents if i.incident_id == warn.incident_id).modality == "possible"


def test_a_launch_report_prefers_an_open_launch_incident_to_escalating_a_warning() -> None:
    incidents: list[Incident] = []
    first, _ = feed_in(incidents, finding("icbm", "occurred", sentence="It launched an ICBM."), "a1", "f", T0)
    feed_in(incidents, finding("icbm", "possible", sentence="It may launch again."), "a2", "f", T0 + timedelta(hours=3))
    copy, _ = feed_in(
        incidents, finding("icbm", "occurred", sentence="Pyongyang fired an ICBM."), "a3", "g", T0 + timedelta(hours=4)
    )
    assert copy.incident_id == first.incident_id
    assert {i.modality for i in incidents} == {"occurred", "possible"}


def test_state_from_before_versions_reads_as_version_one() -> None:
    incidents: list[Incident] = []
    launch, _ = feed_in(incidents, finding("icbm", "occurred", sentence="It launched an ICBM."), "a1", "f", T0)
    old = {k: v for k, v in launch.to_dict().items() if k not in ("version", "occurred_at", "escalated_from")}
    restored = Incident.from_dict(old)
    assert restored == launch and restored.version == 1 and restored.occurred_at == launch.first_seen


def test_warnings_merge_and_threatened_outranks_possible() -> None:
    incidents: list[Incident] = []
    feed_in(incidents, finding("icbm", "possible", sentence="US says it may test an ICBM."), "w1", "f", T0)
    updated, changed = feed_in(
        incidents,
        finding("icbm", "threatened", sentence="KCNA: we will launch."),
        "w2",
        "g",
        T0 + timedelta(hours=3),
    )
    assert changed and len(incidents) == 1
    assert updated.modality == "threatened"


def test_replay_changes_nothing_and_alert_id_is_stable() -> None:
    incidents: list[Incident] = []
    f = finding(sentence="North Korea fired two missiles.")
    first, changed = feed_in(incidents, f, "a1", "feed", T0)
    assert changed
    again, changed_again = feed_in(
        incidents,
        finding(sentence="North Korea fired two missiles."),
        "a1",
        "feed",
        T0 + timedelta(minutes=10),
    )
    assert not changed_again
    assert again == first and again.alert_count == 1
    assert alert_id("a1", f) == alert_id("a1", finding(sentence="North Korea fired two missiles."))
    assert alert_id("a1", f) != alert_id("a2", f)


def test_window_expiry_opens_a_new_incident() -> None:
    incidents: list[Incident] = []
    old, _ = feed_in(incidents, finding(sentence="Launch one."), "a1", "f", T0)
    new, _ = feed_in(incidents, finding(sentence="Launch two."), "a2", "f", T0 + timedelta(hours=49))
    assert old.incident_id != new.incident_id and len(incidents) == 2
    inside, _ = feed_in(incidents, finding(sentence="Launch two, more."), "a3", "f", T0 + timedelta(hours=60))
    assert inside.incident_id == new.incident_id
    # the window is anchored on the first report: daily reports do not stretch one incident forever
    later, _ = feed_in(incidents, finding(sentence="Launch three."), "a4", "f", T0 + timedelta(hours=49 + 50))
    assert later.incident_id not in {old.incident_id, new.incident_id}


def test_unspecified_is_refined_to_srbm_and_keeps_details() -> None:
    incidents: list[Incident] = []
    f1 = finding(sentence="North Korea fired a ballistic missile.")
    f1.details["count"] = 1
    first, _ = feed_in(incidents, f1, "a1", "f", T0)
    assert first.kind == "ballistic_unspecified" and incident_family(first.kind) == "short_range"
    f2 = finding("srbm", sentence="It was a short-range ballistic missile that flew 600 km.")
    f2.details["range_km"] = 600
    refined, changed = feed_in(incidents, f2, "a2", "g", T0 + timedelta(hours=2))
    assert changed and refined.incident_id == first.incident_id
    assert refined.kind == "srbm"
    assert refined.details["range_km"] == 600 and refined.details["count"] == 1
    assert refined.headline == "North Korea: launch of a short-range ballistic missile"
    # a later unspecified report joins and does not undo the refinement
    later, _ = feed_in(incidents, finding(sentence="A missile was fired."), "a3", "h", T0 + timedelta(hours=3))
    assert later.incident_id == first.incident_id and later.kind == "srbm"


def test_unspecified_joins_an_open_long_range_incident() -> None:
    incidents: list[Incident] = []
    icbm, _ = feed_in(incidents, finding("icbm", sentence="North Korea fired an ICBM."), "a1", "f", T0)
    joined, _ = feed_in(
        incidents,
        finding(sentence="North Korea fired a ballistic missile."),
        "a2",
        "g",
        T0 + timedelta(hours=1),
    )
    assert joined.incident_id == icbm.incident_id and joined.kind == "icbm"
    assert joined.max_severity == "critical"
    assert joined.headline.startswith("North Korea: launch of an ICBM")


def test_other_actor_or_family_opens_its_own_incident() -> None:
    incidents: list[Incident] = []
    a, _ = feed_in(incidents, finding("cruise", sentence="NK fired cruise missiles."), "a1", "f", T0)
    b, _ = feed_in(incidents, finding("icbm", sentence="NK fired an ICBM."), "a2", "f", T0)
    c, _ = feed_in(incidents, finding("icbm", actor="Iran", sentence="Iran fired an ICBM."), "a3", "f", T0)
    assert len({a.incident_id, b.incident_id, c.incident_id}) == 3


def test_incident_ids_are_deterministic_and_round_trip() -> None:
    one, _ = assign([], finding(), article_id="x", feed="f", title="t", published_at=T0)
    two, _ = assign([], finding(), article_id="x", feed="f", title="t", published_at=T0)
    assert one.incident_id == two.incident_id
    assert Incident.from_dict({"schema": "wirewatch.incident/v1", **one.to_dict()}) == one
