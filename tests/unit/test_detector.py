"""The provocation-alert detector: the seed, every suppressed case, details, merging and fingerprints."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.language import Language

from wirewatch.agents.detector import (
    Detection,
    DetectorConfig,
    Finding,
    analyze_docs,
    default_severity,
    detect,
    sentence_candidates,
)
from wirewatch.agents.document import dateline_tokens
from wirewatch.agents.nlp import TextMeta, entities_of

from .detector_readings import detection_if_model_sure, rule_reading


def run(nlp: Language, text: str, config: DetectorConfig | None = None, published: str | None = None) -> Detection:
    doc = nlp(text)
    return detect(doc, entities_of(doc), meta=TextMeta(published), config=config)


def only(nlp: Language, text: str, **kw: object) -> Finding:
    findings = run(nlp, text, **kw).findings  # type: ignore[arg-type]
    assert len(findings) == 1, [f.to_dict() for f in findings]
    return findings[0]


def suppressed(nlp: Language, text: str) -> set[str]:
    """Reasons of the suppressed signals, asserting that nothing is alertable."""
    detection = run(nlp, text)
    assert detection.findings == [], [f.to_dict() for f in detection.findings]
    reasons = {s.reason or "" for s in detection.signals if not s.alertable}
    assert reasons, "expected a suppressed candidate, found no candidate at all"
    return reasons


# --- the seed (docs/ARCHITECTURE.md) ------------------------------------------------------------------------


def test_seed_gives_exactly_the_two_design_findings(nlp: Language, seed_text: str) -> None:
    findings = run(nlp, seed_text).findings
    assert len(findings) == 2, [f.to_dict() for f in findings]
    by_modality = {f.modality: f for f in findings}
    assert set(by_modality) == {"occurred", "possible"}

    launch = by_modality["occurred"]
    assert launch.actor == "North Korea"
    assert launch.kind == "ballistic_unspecified"
    assert launch.details["count"] == 2
    assert launch.details["range_km"] == 380
    assert launch.details["apogee_km"] == 97
    assert launch.details["time_text"] == "late November"
    assert "Sea of Japan" in launch.details["location"]
    assert launch.severity == "high"
    assert launch.speaker is None
    assert len(launch.evidence) == 1
    ev = launch.evidence[0]
    assert seed_text[ev.start : ev.end] == ev.text and "two ballistic missiles" in ev.text

    warning = by_modality["possible"]
    assert warning.actor == "North Korea"
    assert warning.kind == "icbm"
    assert warning.details["time_text"] == "in the coming weeks"
    assert warning.speaker is not None and "Kelly Craft" in warning.speaker
    assert "United States" in warning.speaker
    assert warning.severity == "high"
    # both of Craft's warning sentences are merged into the one finding
    assert len(warning.evidence) == 2
    assert all(seed_text[e.start : e.end] == e.text for e in warning.evidence)
    # evidence is one sentence: cut at the paragraph break even where the parser ran two together
    assert all("\n" not in e.text and e.text == e.text.strip() for e in warning.evidence + launch.evidence)


def test_seed_background_and_rhetoric_raise_nothing(nlp: Language, seed_text: str) -> None:
    findings = run(nlp, seed_text).findings
    texts = " ".join(e.text for f in findings for e in f.evidence)
    for phrase in ("avoid further provocations", "resumed missile tests", "off the table"):
        assert phrase not in texts


def test_seed_fingerprints_are_stable(nlp: Language, seed_text: str) -> None:
    first = sorted(f.fingerprint() for f in run(nlp, seed_text).findings)
    second = sorted(f.fingerprint() for f in run(nlp, seed_text).findings)
    assert first == second and len(set(first)) == 2


# --- positives: kinds and modalities ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "modality", "actor"),
    [
        (
            "Iran test-fired a new medium-range ballistic missile on Sunday, state television reported.",
            "irbm",
            "occurred",
            "Iran",
        ),
        (
            "The DPRK launched a Pukguksong-3 from a submarine off Sinpo early on Wednesday.",
            "slbm",
            "occurred",
            "North Korea",
        ),
        (
            "Pyongyang fired two long-range cruise missiles over the weekend, the defence ministry in Seoul said.",
            "cruise",
            "occurred",
            "North Korea",
        ),
        (
            "Officials in Tokyo said North Korea could launch a reconnaissance satellite as early as next week.",
            "space_launch_vehicle",
            "possible",
            "North Korea",
        ),
        (
            "North Korea has told shipping authorities it plans to launch a satellite between May 31 and June 11.",
            "space_launch_vehicle",
            "threatened",
            "North Korea",
        ),
        (
            "U.S. intelligence officials believe Pyongyang is preparing to test an intercontinental ballistic missile.",
            "icbm",
            "possible",
            "North Korea",
        ),
        (
            "Russia's military test-launched a Sarmat missile from Plesetsk on Friday.",
            "icbm",
            "occurred",
            "Russia",
        ),
    ],
)
def test_positive_reports(nlp: Language, text: str, kind: str, modality: str, actor: str) -> None:
    finding = only(nlp, text)
    assert (finding.kind, finding.modality, finding.actor) == (kind, modality, actor)
    assert 0 < finding.confidence <= 1
    assert finding.severity == default_severity(kind, modality)


def test_the_north_resolves_from_context_and_pronoun_from_previous_sentence(nlp: Language) -> None:
    text = (
        "North Korea's state media criticised the joint drills on Monday. "
        "On Tuesday the North fired a short-range ballistic missile into the sea."
    )
    assert only(nlp, text).actor == "North Korea"
    text2 = "Iran has warned Washington repeatedly. On Sunday it test-fired a ballistic missile."
    assert only(nlp, text2).actor == "Iran"


def test_a_state_threat_to_fire_missiles_is_threatened_with_speaker(nlp: Language) -> None:
    text = (
        "A spokesman for Iran's Revolutionary Guards, Ali Karimi, said the force will fire more ballistic "
        "missiles at militant bases next week."
    )
    finding = only(nlp, text)
    assert finding.modality == "threatened"
    assert finding.actor == "Iran"


# Sentences written for these tests: who says a threat, and whose the speaker is.
def test_a_threatening_or_vowing_speaker_is_the_speaker(nlp: Language) -> None:
    threat = only(nlp, "Kim Yo Jong threatened on Saturday to launch more intercontinental ballistic missiles.")
    assert (threat.modality, threat.actor) == ("threatened", "North Korea")
    assert threat.speaker is not None and threat.speaker.startswith("Kim Yo Jong")
    vow = only(nlp, "Kim Jong Un vowed on Sunday to launch more spy satellites into orbit this year.")
    assert vow.modality == "threatened" and vow.speaker is not None and vow.speaker.startswith("Kim Jong Un")
    # the act stays in the verb's clause: a threatened launch, not a reported one
    assert only(nlp, "North Korea threatened a missile launch.").modality == "threatened"


def test_a_speakers_affiliation_is_not_taken_from_the_clause_before_the_name(nlp: Language) -> None:
    text = "North Korea will launch more ballistic missiles unless the United States ends its drills, Kim Yo Jong said."
    finding = only(nlp, text)
    assert finding.speaker is not None and finding.speaker.startswith("Kim Yo Jong")
    assert "United States" not in finding.speaker


def test_a_speaker_with_an_apposition_is_the_speaker(nlp: Language) -> None:
    text = "North Korea will launch more ballistic missiles, Kim Yo Jong, the sister of leader Kim Jong Un, said."
    assert only(nlp, text).speaker == "Kim Yo Jong (North Korea)"
    text = "Kim Yo Jong, sister of North Korean leader Kim Jong Un, threatened to launch more ballistic missiles."
    assert only(nlp, text).speaker == "Kim Yo Jong (North Korea)"


def test_a_speaker_behind_a_verb_of_evidence_and_a_role_that_names_the_previous_speaker(nlp: Language) -> None:
    """'Satellite images show ...' names no speaker: the speech verb above it does, and 'the envoy' is the
    envoy the article has named (the demo's warning article got a second alert with no speaker)."""

    def speakers(text: str) -> list[str | None]:
        doc = nlp(text)
        found = sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False))
        return [c.speaker for sc in found for c in sc.rule]

    envoy = "The US special envoy (United States)"
    text = (
        "The US special envoy for North Korea warned on Monday that Pyongyang could test an ICBM within weeks."
        " Satellite images show trucks moving a missile to the launch pad, the envoy told reporters in Seoul."
    )
    assert speakers(text) == [envoy, envoy]
    text = "Satellite images show North Korea preparing to launch a ballistic missile, the South Korean military said."
    assert speakers(text) == ["the South Korean military"]
    # a role noun the previous speaker's phrase does not hold is no one named
    text = (
        "The US special envoy for North Korea warned on Monday that Pyongyang could test an ICBM within weeks."
        " Satellite images show trucks moving a missile to the launch pad, the minister told reporters in Seoul."
    )
    assert speakers(text) == [envoy, None]


# --- suppressed cases (texts written for these tests) ---------------------------------------------------


def test_negated_launch(nlp: Language) -> None:
    assert suppressed(nlp, "South Korea's military said it had not detected any missile launch by the North.") & {
        "denied",
        "negated",
    }


def test_denial(nlp: Language) -> None:
    assert "denied" in suppressed(nlp, "Tehran denied reports that it had tested a ballistic missile on Monday.")


def test_false_alarm(nlp: Language) -> None:
    reasons = suppressed(nlp, "The alert said a ballistic missile was launched toward Guam, but it was a false alarm.")
    assert "denied" in reasons


def test_historical_background(nlp: Language) -> None:
    assert "historical" in suppressed(
        nlp, "In 2016 North Korea launched a long-range rocket that put a satellite in orbit."
    )
    assert "historical" in suppressed(nlp, "Pyongyang fired an intermediate-range missile over Japan last year.")


@pytest.mark.parametrize(
    ("text", "historical"),
    [
        # written for the project: in an undated article a year dates a launch to the past unless the launch
        # comes before the thing it dates, or its clause looks ahead; the sentences assert only the reading
        ("Analysts read the ICBM launch as a message to Washington before the 2028 presidential vote.", False),
        ("Russia said its submarines will start test launches of the missile in 2031.", False),
        ("North Korea fired a missile during the 2018 Winter Olympics.", True),
        ("North Korea will mark the anniversary of its 2017 ICBM launch.", True),
        ("North Korea's 2017 launch of an ICBM was its longest flight.", True),
    ],
)
def test_a_year_dates_a_launch_unless_the_launch_comes_before_it(nlp: Language, text: str, historical: bool) -> None:
    signals = run(nlp, text).signals
    assert signals
    assert any(s.reason == "historical" for s in signals) is historical, [s.to_dict() for s in signals]


def test_historical_is_relative_to_publication_time(nlp: Language) -> None:
    text = "On March 3, 2031, North Korea launched a ballistic missile toward the East Sea."
    assert run(nlp, text, published="2031-03-04T08:00:00Z").findings
    assert not run(nlp, text, published="2033-01-01T00:00:00Z").findings


def test_civilian_space_launch(nlp: Language) -> None:
    assert "civilian_space" in suppressed(
        nlp,
        "Rocket Lab launched an Electron rocket carrying two weather satellites from New Zealand on Friday.",
    )
    assert "civilian_space" in suppressed(
        nlp, "India's space agency ISRO launched a rocket carrying an earth-observation satellite on Monday."
    )


def test_state_satellite_launch_of_watch_list_state_alerts(nlp: Language) -> None:
    finding = only(nlp, "North Korea launched a rocket carrying a spy satellite on Tuesday night, Seoul said.")
    assert finding.kind == "space_launch_vehicle" and finding.severity == "critical"


def test_product_launch(nlp: Language) -> None:
    detection = run(nlp, "The carmaker will launch its new electric model in Seoul next month.")
    assert detection.findings == [] and detection.signals == []
    assert suppressed(nlp, "The start-up launched its rocket-themed sneakers campaign at a store in Tokyo.")


def test_missile_defence_intercept_test(nlp: Language) -> None:
    reasons = suppressed(
        nlp, "The Pentagon said an interceptor launched from California destroyed a mock warhead in a test."
    )
    assert "missile_defence" in reasons


def test_hypothetical_condition(nlp: Language) -> None:
    assert "hypothetical" in suppressed(
        nlp, "Japan will shoot down the missile if North Korea launches an ICBM over its territory."
    )


def test_fiction(nlp: Language) -> None:
    assert "fiction_or_hypothetical" in suppressed(
        nlp, "In the new thriller, a rogue general launches a nuclear missile at Washington."
    )


def test_capability_is_not_a_launch(nlp: Language) -> None:
    assert "capability" in suppressed(nlp, "The new submarine is capable of launching cruise missiles.")


def test_non_state_rockets_are_kept_apart_unless_configured(nlp: Language) -> None:
    text = "Hezbollah fired a barrage of rockets from southern Lebanon at northern Israel on Thursday."
    detection = run(nlp, text)
    assert detection.findings == []
    signal = next(s for s in detection.signals if s.reason == "non_state")
    assert signal.finding.kind == "rocket_artillery" and signal.finding.actor == "Hezbollah"
    finding = only(nlp, text, config=DetectorConfig(alert_non_state_rockets=True))
    assert finding.kind == "rocket_artillery" and finding.actor == "Hezbollah"


def test_an_armed_groups_launch_the_model_would_alert_is_kept_apart_unless_configured(nlp: Language) -> None:
    """A launch word with no weapon named is the model's to decide, except an armed group's: the setting holds
    it back whatever the model says (the decision made sure here: an occurred launch at p 0.99)."""
    text = "Hezbollah fired at the northern town on Monday, the army said."
    assert detection_if_model_sure(nlp, text).findings == []
    configured = detection_if_model_sure(nlp, text, DetectorConfig(learned=False, alert_non_state_rockets=True))
    assert [(f.actor, f.kind) for f in configured.findings] == [("Hezbollah", "rocket_artillery")]


def test_state_rocket_artillery_alerts(nlp: Language) -> None:
    finding = only(nlp, "North Korea fired several rounds from a multiple rocket launcher into the Yellow Sea.")
    assert finding.kind == "rocket_artillery" and finding.actor == "North Korea"


def test_signals_are_json_and_carry_reasons(nlp: Language) -> None:
    detection = run(nlp, "In 2017 North Korea tested an ICBM. On Friday North Korea fired a cruise missile.")
    data = json.loads(json.dumps(detection.to_dict()))
    assert [s["alertable"] for s in data["signals"]].count(True) == 1
    assert any(s["reason"] == "historical" and s["modality"] == "historical" for s in data["signals"])
    round_trip = Finding.from_dict(data["signals"][0])
    assert round_trip == detection.findings[0]
    assert round_trip.fingerprint() == detection.findings[0].fingerprint()


# --- details -----------------------------------------------------------------------------------------------


def test_miles_are_converted_and_counts_read_in_words(nlp: Language) -> None:
    finding = only(nlp, "North Korea fired three short-range missiles that flew about 250 miles on Monday.")
    assert finding.details["count"] == 3
    assert finding.details["range_km"] == pytest.approx(402.3, abs=0.1)
    assert finding.kind == "srbm"


def test_digit_counts_apogee_direction_and_named_system(nlp: Language) -> None:
    text = (
        "North Korea launched 2 Hwasong-18 missiles toward the East Sea on Thursday; the missiles reached an "
        "altitude of 6,000 km and flew 1,000 kilometres (621 miles)."
    )
    finding = only(nlp, text)
    assert finding.kind == "icbm"
    assert finding.details["count"] == 2
    assert finding.details["apogee_km"] == 6000
    assert finding.details["range_km"] == 1000
    assert finding.details["location"] == "toward the East Sea"
    assert finding.details["weapon_name"] == "Hwasong-18"
    assert finding.details["time_text"] == "Thursday"
    assert finding.severity == "critical"


def test_one_event_across_sentences_is_merged(nlp: Language) -> None:
    text = (
        "North Korea fired a ballistic missile on Sunday, South Korea's military said. "
        "The short-range ballistic missile flew 600 km before landing off the east coast."
    )
    finding = only(nlp, text)
    assert finding.kind == "srbm"  # the unspecified report is refined by the second sentence
    assert len(finding.evidence) == 2
    assert finding.details["range_km"] == 600


def test_an_unresolved_actor_repeating_a_named_launch_is_no_second_finding(nlp: Language) -> None:
    named = "North Korea fired a ballistic missile into the sea on Monday, Seoul said."
    unresolved = "However, the peace process stalled last year because of resumed missile tests."
    alone = detection_if_model_sure(nlp, unresolved)
    assert [f.actor for f in alone.findings] == ["unknown"]  # alone it is the article's one launch
    both = detection_if_model_sure(nlp, f"{named} {unresolved}")
    assert [(f.actor, len(f.evidence)) for f in both.findings] == [("North Korea", 1)]
    assert [(s.reason, s.finding.actor) for s in both.signals if not s.alertable] == [("repeated", "unknown")]


def test_severity_map_overrides_design_defaults(nlp: Language) -> None:
    config = DetectorConfig(severity_map={"cruise": "critical", "srbm": {"warning": "high"}})
    assert only(nlp, "Russia launched cruise missiles at the port overnight.", config=config).severity == "critical"
    assert config.severity("srbm", "possible") == "high"
    assert config.severity("srbm", "occurred") == "high"
    assert config.severity("icbm", "possible") == "high"
    assert config.severity("srbm", "threatened") != default_severity("srbm", "threatened")


def test_analyze_docs_matches_detect(nlp: Language) -> None:
    texts = ["Iran fired a ballistic missile on Monday.", "The weather was fine."]
    results = analyze_docs(nlp, texts)
    assert len(results) == 2
    assert [len(d.findings) for _e, d in results] == [1, 0]
    assert results[0][1].findings[0].fingerprint() == run(nlp, texts[0]).findings[0].fingerprint()


# --- modality and actor rules ------------------------------------------------------------------------------


COUNCIL_MEETING = "The council will meet on Monday to discuss North Korea's latest ICBM launch."


def test_a_verb_about_a_launch_lends_it_no_tense_in_the_rules_reading(nlp: Language) -> None:
    assert only(nlp, COUNCIL_MEETING, config=DetectorConfig(learned=False)).modality == "occurred"


@pytest.mark.xfail(
    strict=True,
    reason="known weakness (model card): the learned modality model, which decides, reads the meeting's future as"
    " the launch's since it learned from written announcements ('will launch'); letting the rules' reading win for"
    " such launch nouns cost modality accuracy 0.017 by grouped CV on real news (docs/MODEL_LOG.md, session 14)",
)
def test_the_shipped_model_reads_a_launch_a_meeting_will_discuss_as_occurred(nlp: Language) -> None:
    assert only(nlp, COUNCIL_MEETING).modality == "occurred"


@pytest.mark.parametrize(
    ("text", "modality"),
    [
        ("North Korea warned it would launch missile strikes against the carrier group.", "threatened"),
        ("Seoul expects North Korea to launch an intercontinental ballistic missile soon.", "possible"),
        (
            "Iran said its forces had test-fired a ballistic missile, but Israeli officials said they had no "
            "evidence of a launch.",
            "possible",
        ),
    ],
)
def test_modality_rules(nlp: Language, text: str, modality: str) -> None:
    assert only(nlp, text).modality == modality


def test_generic_any_launch_is_not_an_event(nlp: Language) -> None:
    assert "hypothetical" in suppressed(nlp, "The minister warned that any missile launch would be met with force.")


def test_a_named_system_identifies_its_state(nlp: Language) -> None:
    finding = only(nlp, "The White House condemned the launch of the Hwasong-18, calling it reckless.")
    assert finding.actor == "North Korea" and finding.kind == "icbm"


def test_a_rocket_launch_by_a_satellite_launching_state_is_a_space_launch_vehicle(nlp: Language) -> None:
    finding = only(nlp, "Imagery of the Sohae site suggests a North Korean rocket launch may be imminent.")
    assert (finding.kind, finding.modality, finding.actor) == (
        "space_launch_vehicle",
        "possible",
        "North Korea",
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "No missile was fired from the site on Sunday, contrary to earlier reports, the ministry said.",
            "denied",
        ),
        ("The North has conducted dozens of missile tests over the past decade.", "historical"),
        ("Pyongyang often stages missile launches around major holidays.", "historical"),
        # the rules' 'suppressed' reading (urged, banned, stopped, delayed) holds the model back, but for an abort
        ("The Minuteman III test launch had been delayed to avoid escalating tensions.", "negated"),
        ("The new treaty bans Iran from conducting ballistic missile launches.", "negated"),
    ],
)
def test_more_suppressed_background(nlp: Language, text: str, reason: str) -> None:
    assert reason in suppressed(nlp, text)


def test_odd_parse_still_links_trigger_and_weapon(nlp: Language) -> None:
    finding = only(nlp, "North Korea test-fired two missiles, one of which failed shortly after launch.")
    assert finding.actor == "North Korea" and finding.modality == "occurred"


def test_present_tense_headline_reports_but_narration_does_not(nlp: Language) -> None:
    headline = only(nlp, "Iran tests new long-range missile, defying U.S. warnings")
    assert headline.modality == "occurred" and headline.actor == "Iran"
    assert "present_narrative" in suppressed(
        nlp, "At dawn the sirens wail as the country's newest ballistic missile is launched toward the city."
    )


@pytest.mark.parametrize(
    "text",
    [
        "Washington and Tokyo warned North Korea against further ICBM launches.",
        # the consequence of an indefinite launch under a modal: framing.py's hypothetical, which the model respects
        "A North Korean ICBM launch would violate several UN resolutions, the State Department said.",
    ],
)
def test_warnings_against_and_counterfactuals_raise_nothing(nlp: Language, text: str) -> None:
    assert suppressed(nlp, text)


def test_unconfirmed_report_is_possible(nlp: Language) -> None:
    text = "Seoul said it could not confirm Japanese media reports of a North Korean missile launch on Sunday."
    finding = only(nlp, text)
    assert finding.modality == "possible" and finding.actor == "North Korea"


def test_simulated_launch_in_an_exercise_is_not_a_launch(nlp: Language) -> None:
    assert "hypothetical" in suppressed(nlp, "The drill included the simulated launch of an ICBM, state media said.")


VOCAB = [
    "North",
    "Korea",
    "Iran",
    "Hezbollah",
    "the",
    "it",
    "they",
    "fired",
    "launched",
    "may",
    "will",
    "not",
    "no",
    "if",
    "in",
    "2017",
    "missile",
    "missiles",
    "ICBM",
    "rocket",
    "satellite",
    "test",
    "launch",
    "KN-23",
    "Hwasong-17",
    "SpaceX",
    "THAAD",
    "intercept",
    "from",
    "Gaza",
    "toward",
    "Sea",
    "of",
    "Japan",
    "300",
    "km",
    "miles",
    "two",
    ",",
    ".",
    "(",
    ")",
    '"',
    "said",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(VOCAB), min_size=0, max_size=40))
def test_any_word_soup_is_handled_and_deterministic(nlp: Language, words: list[str]) -> None:
    text = " ".join(words)
    first, second = run(nlp, text), run(nlp, text)
    json.dumps(first.to_dict())
    assert [f.fingerprint() for f in first.findings] == [f.fingerprint() for f in second.findings]
    for finding in first.findings:
        assert finding.modality in ("occurred", "possible", "threatened")
        assert all(text[e.start : e.end] == e.text for e in finding.evidence)


def test_dateline_is_not_the_launcher_and_direction_is_kept(nlp: Language) -> None:
    text = (
        "TOKYO, Japan (Reuters) — North Korea fired a ballistic missile toward its eastern waters on Friday, "
        "Japan's defence ministry said."
    )
    finding = only(nlp, text)
    assert finding.actor == "North Korea"
    assert finding.details["location"] == "toward its eastern waters"


def test_a_dateline_in_title_case_is_not_a_launcher(nlp: Language) -> None:
    # written for the project: the city and its state where the story was filed raised a second finding, the
    # launch as South Korea's
    finding = only(nlp, "Seoul, South Korea - A ballistic missile fired from near Pyongyang flew 600 km.")
    assert finding.actor == "North Korea"


@pytest.mark.parametrize(
    ("text", "dateline"),
    [
        ("Kyiv, Ukraine - Russia fired missiles.", "Kyiv, Ukraine -"),
        ("HAIFA, Israel (AP) _ Sirens sounded across the north.", "HAIFA, Israel (AP) _"),
        ("ISLAMABAD: Pakistan test-fired a missile on Monday.", "ISLAMABAD:"),
        ("NEW DELHI: India test-fired a missile on Monday.", "NEW DELHI:"),
    ],
)
def test_datelines_in_wire_forms(nlp: Language, text: str, dateline: str) -> None:
    # written for the project
    sent = next(iter(nlp(text).sents))
    found = dateline_tokens(sent)
    assert found and sent.doc[min(found) : max(found) + 1].text == dateline


@pytest.mark.parametrize(
    "text",
    [
        "Iran - the country that tested a missile in May - fired another one on Tuesday.",
        "Pakistan and India - nuclear-armed rivals - have both tested ballistic missiles this year.",
        "North Korea, Iran - and now Russia - have tested hypersonic missiles.",
        "FLASH: North Korea fires a ballistic missile toward the East Sea.",
        "Officials said: North Korea fired a ballistic missile on Monday.",
    ],
)
def test_a_subject_before_a_dash_and_a_label_before_a_colon_are_no_dateline(nlp: Language, text: str) -> None:
    # written for the project: states before a dash may be the subject (an aside closed by a second dash, or
    # joined by "and"); a word in capitals before a colon that names no place is a label
    doc = nlp(text)
    assert not any(dateline_tokens(sent) for sent in doc.sents)


# --- generalisation rules (found by measuring on tests/data/holdout_alerts.jsonl) -----------------------


@pytest.mark.parametrize(
    ("text", "kind", "modality", "actor"),
    [
        # a satellite launch told by its result ("put ... into orbit")
        (
            "Iran placed two imaging satellites into orbit with a Safir rocket on Tuesday.",
            "space_launch_vehicle",
            "occurred",
            "Iran",
        ),
        # Trident is submarine-launched; "from a submarine" makes a ballistic missile an SLBM
        (
            "The Royal Navy fired a Trident II missile off Florida on Monday.",
            "slbm",
            "occurred",
            "United Kingdom",
        ),
        (
            "North Korea fired a ballistic missile from a submarine near Sinpo.",
            "slbm",
            "occurred",
            "North Korea",
        ),
        # the weapon is the object of the tool verb, and "U.S.-made" names the supplier, not the launcher; a
        # short-range system named without its class is ballistic_unspecified, as the labelled news calls it
        # (the model distrusts the weapon map's srbm: see weapon_kinds.json)
        (
            "Ukrainian troops used U.S.-made ATACMS missiles to strike an ammunition depot.",
            "ballistic_unspecified",
            "occurred",
            "Ukraine",
        ),
        # state rocket artillery has 4 true examples in the training data; found since the context features
        # (p 0.46 against a threshold of 0.45: near the edge)
        (
            "Russian troops shelled the riverside town with Grad rockets overnight.",
            "rocket_artillery",
            "occurred",
            "Russia",
        ),
        ("Moscow bombarded the port with Kalibr missiles on Sunday.", "cruise", "occurred", "Russia"),
        # criticism of a launch presupposes the launch: rejecting the criticism is no denial
        (
            "North Korea dismissed condemnation of its ICBM launch as hypocritical.",
            "icbm",
            "occurred",
            "North Korea",
        ),
        # "the country" refers back to the speaker's state; an unless-clause names no launcher
        (
            "Tehran's envoy said the country would fire missiles at U.S. bases unless Washington lifted it.",
            "ballistic_unspecified",
            "threatened",
            "Iran",
        ),
        # a planned launch notified by the launcher itself is its own announcement
        (
            "China has notified airlines of a planned launch of a JL-3 missile, Beijing said.",
            "slbm",
            "threatened",
            "China",
        ),
        # a bare rocket of a satellite-launching state that blew up in a sentence about a satellite
        (
            "The rocket carrying North Korea's spy satellite exploded two minutes after liftoff.",
            "space_launch_vehicle",
            "occurred",
            "North Korea",
        ),
        # retaliation through its weapon
        ("Iran vowed to hit back with ballistic missiles.", "ballistic_unspecified", "threatened", "Iran"),
        (
            "Pyongyang said it would answer the drills with missile launches.",
            "ballistic_unspecified",
            "threatened",
            "North Korea",
        ),
        # a named system and the generic noun it modifies are one mention of the system
        (
            "A Minuteman III missile was destroyed by controllers over the ocean shortly after launch.",
            "icbm",
            "occurred",
            "United States",
        ),
        (
            "The U.S. Army fired a Precision Strike Missile from a HIMARS launcher during the drill.",
            "srbm",
            "occurred",
            "United States",
        ),
        # an engine named as a feature of the missile is not an engine test
        (
            "Iran test-fired a new ballistic missile powered by a solid-fuel engine on Friday.",
            "ballistic_unspecified",
            "occurred",
            "Iran",
        ),
        # a parade in a coordinated clause is another event
        (
            "North Korea may hold a parade or launch a ballistic missile next week, officials in Seoul said.",
            "ballistic_unspecified",
            "possible",
            "North Korea",
        ),
        # preparing weapons for an attack is a warning of the attack
        (
            "Russia is amassing cruise missiles for a strike on the power grid, Kyiv's spies said.",
            "cruise",
            "possible",
            "Russia",
        ),
        # readiness declared by the launcher itself is a threat; the same readiness seen from outside is not
        ("Pyongyang said it was ready to fire its ICBMs at any moment.", "icbm", "threatened", "North Korea"),
        (
            "Seoul said North Korea was ready to fire an ICBM at any moment.",
            "icbm",
            "possible",
            "North Korea",
        ),
        # a threat reported by the threatener's own side names the launcher when the subject does not
        (
            "Kim vowed to fire ICBMs over Japan, the North's state media said.",
            "icbm",
            "threatened",
            "North Korea",
        ),
        # a generic mention identified as a named system takes the system's kind
        (
            "The missile, thought to be a KN-25, flew 350 km, Seoul said of Pyongyang's launch.",
            "srbm",
            "occurred",
            "North Korea",
        ),
        # a rocket force is the branch that fires ballistic missiles, not a rocket
        (
            "China's Rocket Force fired into the sea east of Taiwan on Friday.",
            "ballistic_unspecified",
            "occurred",
            "China",
        ),
        # "prepared to fire" said by the launcher itself
        (
            "Tehran's Guards said they were prepared to fire missiles at U.S. ships.",
            "ballistic_unspecified",
            "threatened",
            "Iran",
        ),
        # "test-launch" misparsed as a modifier of the weapon keeps the future of the weapon's verb
        (
            "Moscow will build and test-launch medium-range missiles, the Kremlin told reporters.",
            "irbm",
            "threatened",
            "Russia",
        ),
    ],
)
def test_generalisation_rules_positive(nlp: Language, text: str, kind: str, modality: str, actor: str) -> None:
    finding = run(nlp, text).strongest()
    assert finding is not None, text
    assert (finding.kind, finding.modality, finding.actor) == (kind, modality, actor)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Japan placed a weather satellite into orbit with an H3 rocket from Tanegashima.", "civilian_space"),
        ("Iran denied reports that it had launched a satellite rocket on Sunday.", "denied"),
        ("Seoul's military retracted its report that the North had fired a missile.", "denied"),
        (
            "India's missile programme dates back to the 1980s, when it first tested the Prithvi missile.",
            "historical",
        ),
        ("It is 30 years since Pakistan tested its first Hatf missile.", "historical"),
        (
            "The Soviet Union fired dozens of ballistic missiles into the Pacific during the Cold War.",
            "historical",
        ),
        (
            "China tested a DF-21 missile in 2006; a year later it fired an anti-satellite missile.",
            "historical",
        ),
        ("The holiday passed without a missile launch from the North, Seoul said.", "denied"),
        ("North Korea tested a solid-fuel engine for its new ICBM at Sohae.", "engine_test"),
        (
            "Japanese and U.S. ships shot down a target missile in a ballistic missile defence test.",
            "missile_defence",
        ),
    ],
)
def test_generalisation_rules_suppress(nlp: Language, text: str, reason: str) -> None:
    assert reason in suppressed(nlp, text)


def test_first_since_a_decade_dates_a_current_event(nlp: Language) -> None:
    finding = only(nlp, "Russia fired an ICBM at a test range, its first such launch since the 1990s.")
    assert (finding.kind, finding.modality, finding.actor) == ("icbm", "occurred", "Russia")


def test_hyphenated_word_is_not_a_dateline_and_a_dateline_is_not_the_launcher(nlp: Language) -> None:
    # "nuclear-powered" has a hyphen, but the speaker before it is no dateline: U.S. officials expect. The
    # modality is the rules' reading here: the shipped modality model calls this one sentence threatened
    # (a known weakness of the model, see docs/MODEL_LOG.md, session 15)
    text = "U.S. officials believe Russia will soon test its nuclear-powered cruise missile."
    assert only(nlp, text).actor == "Russia"
    warning = only(nlp, text, config=DetectorConfig(learned=False))
    assert (warning.modality, warning.actor) == ("possible", "Russia")
    launch = only(nlp, "BEIJING - A ballistic missile launched from near Pyongyang flew 600 km on Monday.")
    assert launch.actor == "North Korea"


def test_triggers_about_one_weapon_share_the_grammatical_actor(nlp: Language) -> None:
    text = "TOKYO - A missile fired from Sinpo flew 300 km before splashing down inside Japan's waters."
    findings = run(nlp, text).findings
    assert [f.actor for f in findings] == ["North Korea"]


@pytest.mark.parametrize(
    "text",
    [
        # written for the project: the state that detects, tracks or spots a launch watches it; the launch
        # stays the launcher's, one finding, not a second one of the observer's
        "North Korea fired a ballistic missile on Monday. The launch was detected by Japan's radar network.",
        "North Korea fired a missile on Monday. South Korea's military tracked the launch from its start.",
        "North Korea fired a missile on Monday. Japanese radars spotted the launch at dawn.",
        # "observed" stays the launcher's own verb in state media ("the leader observed the test")
        "Kim Jong Un observed the test of a new ballistic missile, state media said.",
    ],
)
def test_a_state_that_watches_a_launch_is_not_its_launcher(nlp: Language, text: str) -> None:
    assert [f.actor for f in run(nlp, text).findings] == ["North Korea"]


def test_a_state_told_of_a_launch_is_not_its_launcher(nlp: Language) -> None:
    # written for the project: the state notified of a test is its recipient; "its" goes back to the launcher
    finding = only(nlp, "Russia notified the United States ahead of the test launch of its new ICBM.")
    assert finding.actor == "Russia"


def test_a_launch_confirmed_by_another_state_keeps_the_launcher_as_its_actor(nlp: Language) -> None:
    # written for the project: a bare "the launch" the rules make nothing of (a stand-in candidate) looks for
    # its actor before its own sentence, whose subject is the state that confirms it, not the launcher
    text = (
        "North Korea fired two ballistic missiles into the sea on Monday, Seoul's military said. "
        "The missiles flew about 400 km before coming down outside Japan's economic zone. "
        "Japan's defence ministry confirmed the launch and filed a protest."
    )
    assert stand_in_actors(nlp, text) == [("launch", "North Korea")]
    assert {f.actor for f in run(nlp, text).findings} == {"North Korea"}


def test_a_stand_in_with_no_actor_before_it_reads_its_own_sentence(nlp: Language) -> None:
    # written for the project: nothing before the stand-in names an actor, so its own subject does
    text = "The North warned that its missile drills would go on and might again cross over Japan."
    assert stand_in_actors(nlp, text) == [("drills", "North Korea")]


def stand_in_actors(nlp: Language, text: str) -> list[tuple[str, str | None]]:
    doc = nlp(text)
    candidates = sentence_candidates(doc, entities_of(doc), config=DetectorConfig(learned=False))
    return [(c.trigger.lower_, c.actor) for sc in candidates for c in sc.rule if c.stand_in]


def test_defence_system_and_its_generic_noun_are_one_defence_mention(nlp: Language) -> None:
    assert "missile_defence" in suppressed(nlp, "Patriot missiles were fired over Riyadh on Saturday.")


@pytest.mark.parametrize(
    "text",
    [
        "The carmaker launched a new van on Monday; rivals called the launch a missile aimed at their sales.",
        "Critics described the budget as a missile fired at the middle class.",
        "Her approval rating rose like a rocket after the debate.",
    ],
)
def test_a_weapon_used_as_a_figure_raises_nothing(nlp: Language, text: str) -> None:
    assert run(nlp, text).findings == []


def test_naming_a_weapon_is_literal(nlp: Language) -> None:
    finding = only(nlp, "Pyongyang launched what it called a new hypersonic missile on Tuesday.")
    assert (finding.kind, finding.modality, finding.actor) == ("hypersonic", "occurred", "North Korea")
    named = only(nlp, "China tested its DF-27, which analysts describe as a hypersonic missile.")
    assert named.kind == "hypersonic"


def test_a_denial_verb_does_not_reach_into_a_temporal_clause(nlp: Language) -> None:
    finding = only(nlp, "North Korea rejected the talks after launching two ballistic missiles on Monday.")
    assert (finding.modality, finding.actor) == ("occurred", "North Korea")
    assert "denied" in suppressed(nlp, "Iran denied that it had fired a missile when the drill began.")


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        pytest.param(
            "Two rockets were launched toward an Israeli border village on Tuesday, landing in fields.",
            "launched",
            id="launched-toward-the-main-state",
        ),
        pytest.param(
            "Several rockets hit the Israeli city of Haifa before dawn on Friday.",
            "hit",
            id="hit-the-main-state",
        ),
    ],
)
def test_the_main_state_named_only_as_the_target_is_not_the_launcher(nlp: Language, text: str, trigger: str) -> None:
    assert rule_reading(nlp, text, trigger, lambda c, sc: c.actor) != "Israel"


def test_the_main_state_named_as_the_launcher_stays_the_launcher(nlp: Language) -> None:
    text = "Israeli jets fired missiles at a depot in Gaza on Tuesday, the army said."
    assert rule_reading(nlp, text, "fired", lambda c, sc: c.actor) == "Israel"
