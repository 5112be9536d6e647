"""The privacy guarantees of SPEC.md §2 and §6, end to end.

Identifiers (CPR numbers, phones, e-mails, deny-listed names) fed through every free-text input and option
are refused and end up nowhere: not in any table (every column, both engines), not in the SQLite file or
its WAL, not in logs, not in channel posts or DMs. Identifiers typed into form identifier fields become a
pseudonym and nothing else. Free text that is stored is stored encrypted.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest
from cmdkit import (
    ADMIN,
    add_member,
    audit_entries,
    decrypted_texts,
    dump_values,
    new_case,
    ok,
    outbox_messages,
    pseudonyms,
    reply_text,
    row_counts,
    run,
    seed_admin,
    submit,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url

from commands.cases import concerns
from storage.pseudonym import derived_pseudonym, format_pseudonym, normalise_identifier

CPRS = [
    "010203-1234",  # 7th digit 1 → 1903
    "0102031234",
    "010203 1234",
    "150565-0123",  # 0 → 1965
    "241299-3456",  # 3 → 1999
    "010110-4123",  # 4, YY ≤ 36 → 2010
    "010150-4123",  # 4, YY > 36 → 1950
    "290220-5123",  # 5, YY ≤ 57 → 2020
    "010170-6123",  # 6, YY > 57 → 1870
    "311280-8123",  # 8 → 1880
    "010137-9000",  # 9, YY > 36 → 1937
    "010120-9000",  # 9, YY ≤ 36 → 2020
]
PHONES = ["+45 22 33 44 55", "22334455", "0045 87 65 43 21", "2233 4455", "22-33-44-55", "+4522334455"]
MAILS = ["anna.hansen@example.dk", "far+skole@kk.dk"]
DENIED = "Mohammed Testesen"
IDENTIFIERS = [*CPRS, *PHONES, *MAILS, DENIED]

SUMMARY_MARK = "ZEBRAFINK udtaler støtte til IS"
NOTE_MARK = "KOLIBRI: skolen melder fravær"
LOG_MARK = "PINGVIN: mødtes på biblioteket"
PURPOSE_MARK = "ODDER: forberedelse af møde"


def needles(value: str) -> set[str]:
    """The value as typed and in the forms it might be normalised into."""
    forms = {value, value.lower()}
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 8:
        forms.add(digits)
        forms.add(digits[-8:])
    return forms


def assert_nowhere(svc, values: list[str], logs: str, extra_outputs: tuple[str, ...] = ()) -> None:
    found = []
    all_needles = {n for v in values for n in needles(v)}
    for table, column, value in dump_values(svc):
        raw = value if isinstance(value, bytes) else str(value).encode()
        for needle in all_needles:
            if needle.encode() in raw or needle.encode() in raw.lower():
                found.append(f"{table}.{column}")
    for plain in decrypted_texts(svc):  # not even encrypted
        found += [f"encrypted:{n}" for n in all_needles if n in plain or n in plain.lower()]
    for blob in sqlite_files(svc):
        found += [f"file:{n}" for n in all_needles if n.encode() in blob]
    found += [f"log:{n}" for n in all_needles if n in logs or n in logs.lower()]
    for output in extra_outputs:
        found += [f"output:{n}" for n in all_needles if n in output]
    if found:
        raise AssertionError(f"identifiers found: {sorted(set(found))}")


def sqlite_files(svc) -> list[bytes]:
    url = make_url(svc.settings.database_url)
    if url.get_backend_name() != "sqlite":
        return []
    base = Path(url.database or "")
    return [p.read_bytes() for p in (base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm"),
                                     base.with_name(base.name + "-journal")) if p.exists()]


@pytest.fixture
def unit(svc, caplog):
    caplog.set_level(logging.DEBUG)
    svc = replace(svc, settings=svc.settings.model_copy(update={"pii_denylist": (DENIED, "Testesen-familien")}))
    seed_admin(svc)
    add_member(svc, "U_SSP", "member", "SSP")
    add_member(svc, "U_MENTOR", "mentor", "EKP")
    ref = new_case(svc, text="concern new severity=high track=child age=15-17 source=social district=Valby "
                             f'basis=rpl115 summary="{SUMMARY_MARK}"')
    (son,) = pseudonyms(svc, ref)
    ok(svc, ADMIN, f"case qualify {ref} level=preventive")
    ok(svc, ADMIN, f"case refer {ref} to=SOF")
    ok(svc, ADMIN, f"case offer {ref} subject={son} kind=mentor")
    ok(svc, ADMIN, f"case respond {ref} subject={son} kind=mentor accepted")
    ok(svc, ADMIN, f"case assign {ref} subject={son} kind=mentor mentor=<@U_MENTOR>")
    ok(svc, "U_SSP", f'case note {ref} "{NOTE_MARK}"')
    ok(svc, "U_MENTOR", f'mentor log {ref} subject={son} "{LOG_MARK}"')
    svc.son = son
    return svc


CONCERN = "concern new severity=high track=child age=15-17 source=social district=Valby basis=rpl115 "

COMMAND_VECTORS = {
    "concern summary option": (ADMIN, CONCERN + 'summary="Far oplyser {pii} ved besøget"'),
    "concern summary text": (ADMIN, CONCERN + '"Far oplyser {pii} ved besøget"'),
    "concern district option": (ADMIN, CONCERN.replace("Valby", '"{pii}"') + 'summary="ok"'),
    "concern received option": (ADMIN, CONCERN + 'received="{pii}" summary="ok"'),
    "concern indicators option": (ADMIN, CONCERN + 'indicators="{pii}" summary="ok"'),
    "case note": ("U_SSP", 'case note KE-2026-0001 "Ny oplysning: {pii}"'),
    "case note unquoted": ("U_SSP", "case note KE-2026-0001 {pii}"),
    "mentor log": ("U_MENTOR", 'mentor log KE-2026-0001 subject={son} "Ring på {pii}"'),
    "mentor log date": ("U_MENTOR", 'mentor log KE-2026-0001 subject={son} date="{pii}" "ok"'),
    "qualify level": (ADMIN, 'case qualify KE-2026-0001 level="{pii}"'),
    "refer owner": (ADMIN, 'case refer KE-2026-0001 to=SOF owner="{pii}"'),
    "offer subject": (ADMIN, 'case offer KE-2026-0001 subject="{pii}" kind=mentor'),
    "close reason": (ADMIN, 'case close KE-2026-0001 reason="{pii}"'),
    "unit add name": (ADMIN, 'unit add <@U_NEW> role=member org=SSP name="{pii}"'),
    "unit add user": (ADMIN, 'unit add "{pii}" role=member org=SSP'),
    "case show reference": (ADMIN, "case show {pii}"),
    "unknown command": (ADMIN, "{pii}"),
    "help topic": (ADMIN, "help {pii}"),
    "unknown option": (ADMIN, 'case list notes="{pii}"'),
}


def test_identifiers_from_an_unknown_user_are_refused_as_a_stranger_and_only_the_attempt_is_audited(unit, caplog):
    before = row_counts(unit)
    replies = []
    for value in IDENTIFIERS:
        reply = run(unit, "U_STRANGER", f'case note KE-2026-0001 "{value}"')
        assert not reply.ok and reply.private and "not a member" in reply.text
        replies.append(reply_text(reply))
    after = row_counts(unit)
    assert after.pop("auditentry") == before.pop("auditentry") + len(IDENTIFIERS)
    assert after == before
    assert_nowhere(unit, IDENTIFIERS, caplog.text, tuple(replies))


@pytest.mark.parametrize("vector", sorted(COMMAND_VECTORS))
def test_identifiers_in_commands_are_refused_and_stored_nowhere(unit, caplog, vector):
    user, template = COMMAND_VECTORS[vector]
    before = row_counts(unit)
    replies = []
    for value in IDENTIFIERS:
        reply = run(unit, user, template.format(pii=value, son=unit.son))
        assert not reply.ok and reply.private, (value, reply.text)
        assert "Refused — nothing was stored" in reply.text, (value, reply.text)
        kind = ("a CPR number" if value in CPRS else "a phone number" if value in PHONES
                else "an e-mail address" if value in MAILS else "a term from the unit's deny-list")
        assert kind in reply.text
        replies.append(reply_text(reply))
    assert row_counts(unit) == before  # not even an audit entry
    assert_nowhere(unit, IDENTIFIERS, caplog.text, tuple(replies))


FORM_VECTORS = {
    "intake summary": ("concern.intake", "summary", "Far oplyser {pii}"),
    "intake district": ("concern.intake", "district", "{pii}"),
    "intake received": ("concern.intake", "received", "{pii}"),
    "intake indicators": ("concern.intake", "indicators", "{pii}"),
    "intake age": ("concern.intake", "subject1_age", "{pii}"),
    "lookup purpose": ("concern.lookup", "purpose", "Skal ringe til {pii}"),
    "subject age": ("case.subject", "age", "{pii}"),
}
FORM_BASE = {
    "concern.intake": {"severity": "high", "track": "child", "source": "social", "district": "Valby",
                       "basis": "rpl115", "summary": "Bekymring", "subject1_age": "15-17"},
    "concern.lookup": {"identifier": "010203-1234", "purpose": "Forberedelse"},
    "case.subject": {"age": "0-14"},
}


@pytest.mark.parametrize("vector", sorted(FORM_VECTORS))
def test_identifiers_in_form_fields_are_refused_per_field_and_stored_nowhere(unit, caplog, vector):
    form_id, field, template = FORM_VECTORS[vector]
    before = row_counts(unit)
    outputs = []
    for value in IDENTIFIERS:
        values = {**FORM_BASE[form_id], field: template.format(pii=value)}
        result = submit(unit, ADMIN, form_id, values, {"case": "KE-2026-0001"})
        assert result.reply is None and list(result.errors) == [field], (value, result)
        assert "Refused — nothing was stored" in result.errors[field]
        outputs.append(result.errors[field])
    assert row_counts(unit) == before
    assert_nowhere(unit, IDENTIFIERS, caplog.text, tuple(outputs))


def test_stored_free_text_is_encrypted_at_rest(unit, caplog):
    result = submit(unit, ADMIN, "concern.lookup", {"identifier": "010203-1234", "purpose": PURPOSE_MARK})
    assert result.reply is not None and result.reply.ok
    marks = {"ZEBRAFINK": SUMMARY_MARK, "KOLIBRI": NOTE_MARK, "PINGVIN": LOG_MARK, "ODDER": PURPOSE_MARK}
    for table, column, value in dump_values(unit):
        raw = value if isinstance(value, bytes) else str(value).encode()
        for word in marks:
            assert word.encode() not in raw, f"{word} in plaintext in {table}.{column}"
    for blob in sqlite_files(unit):
        for word in marks:
            assert word.encode() not in blob
    texts = decrypted_texts(unit)
    for mark in marks.values():
        assert any(mark in text for text in texts), mark  # stored, but only encrypted
    assert not any(word in caplog.text for word in marks)


def test_the_detector_finds_a_planted_identifier(unit, caplog):
    """The checks above would pass vacuously if the dump missed tables or the file read missed the WAL."""
    with unit.engine.begin() as conn:
        conn.execute(text("UPDATE member SET display_name = 'far 0102031234' WHERE user_id = 'U_SSP'"))
    with pytest.raises(AssertionError) as info:
        assert_nowhere(unit, ["010203-1234"], "")
    assert "member.display_name" in str(info.value)
    if sqlite_files(unit):
        assert "file:0102031234" in str(info.value)
    with pytest.raises(AssertionError):
        assert_nowhere(unit, ["22 33 44 55"], "ring 22334455")


def test_channel_posts_carry_only_references_and_categories(unit):
    for kind, _target, reply in outbox_messages(unit):
        shown = reply_text(reply)
        for mark in (SUMMARY_MARK, NOTE_MARK, LOG_MARK):
            assert mark not in shown
        if kind == "channel":
            assert "KE-2026-0001" in shown or "repeat" in shown.lower()


# --- identifiers in forms -----------------------------------------------------------------------------


FATHER_CPR = "150578-1235"
SON_ID = "Mohammed Testesen 2010-03-04"
DAUGHTER_CPR = "030815-4321"


def linked(svc, **identifier: str) -> str:
    return derived_pseudonym(svc.keys.pseudonym_key, normalise_identifier(**identifier))


def intake_lines(summary: str, subjects: list[tuple[str, str]]) -> list[str]:
    lines = ["concern", "high", "child", "social", "Nørrebro", "rpl115", "1,2", "", "", summary]  # received: now
    for age, ident in subjects:
        lines += [age, ident]
    lines += ["", ""] * (3 - len(subjects))
    return lines


def test_identifiers_given_in_the_intake_form_become_only_pseudonyms(svc, console, caplog):
    caplog.set_level(logging.DEBUG)
    seed_admin(svc)
    out = console.run(ADMIN, *intake_lines("Bekymring fra hjemmebesøg",
                                           [("25+", FATHER_CPR), ("15-17", SON_ID), ("0-14", DAUGHTER_CPR)]))
    assert "KE-2026-0001" in out
    expected = [linked(svc, cpr=FATHER_CPR), linked(svc, name="Mohammed Testesen", birth_date="2010-03-04"),
                linked(svc, cpr=DAUGHTER_CPR)]
    assert pseudonyms(svc, "KE-2026-0001") == expected
    show = ok(svc, ADMIN, "case show KE-2026-0001")
    for p in expected:
        assert format_pseudonym(p) in reply_text(show)
    secrets_ = [FATHER_CPR, DAUGHTER_CPR, "Mohammed", "Testesen", "2010-03-04", "cpr:", "name:"]
    assert_nowhere(svc, secrets_, caplog.text, (out, reply_text(show)))


@pytest.mark.parametrize("first, second", [
    ("010203-1234", "0102031234"),
    ("010203 1234", "010203-1234"),
    ("Anna Hansen 2010-03-04", "anna  HANSEN 04.03.2010"),
])
def test_same_person_in_two_concerns_gets_the_same_pseudonym_and_the_secretariat_is_told(
        svc, console, caplog, first, second):
    caplog.set_level(logging.DEBUG)
    seed_admin(svc)
    add_member(svc, "U_SSP", "member", "SSP")
    out1 = console.run("U_SSP", *intake_lines("Første bekymring", [("15-17", first)]))
    out2 = console.run("U_SSP", *intake_lines("Ny bekymring", [("15-17", second), ("0-14", "")]))
    p1, p2 = pseudonyms(svc, "KE-2026-0001"), pseudonyms(svc, "KE-2026-0002")
    assert p1[0] == p2[0] and p2[1] != p1[0]
    notice = f"Possible repeat: {format_pseudonym(p1[0])} in KE-2026-0002 also appears in KE-2026-0001."
    messages = outbox_messages(svc)
    to_secretariat = [r.text for kind, target, r in messages if (kind, target) == ("channel", "secretariat")]
    assert to_secretariat == [notice]
    others = [reply_text(r) for kind, target, r in messages if (kind, target) != ("channel", "secretariat")]
    assert not any("repeat" in text.lower() for text in others)  # unit channel, DMs
    # the reporter's own reply says nothing about it; the console shows the secretariat post, marked as such
    private_frames = re.findall(r"┌─ private\n(.*?)└─", out2, re.S)
    assert private_frames and not any("repeat" in frame.lower() for frame in private_frames)
    assert "┌─ channel #secretariat\n│ " + notice in out2
    assert "repeat" not in out1.lower()
    # only leads see the flag on the case
    assert "POSSIBLE REPEAT" in reply_text(ok(svc, ADMIN, "case show KE-2026-0002"))
    assert "POSSIBLE REPEAT" not in reply_text(ok(svc, "U_SSP", "case show KE-2026-0002"))
    assert_nowhere(svc, [first, second, "Anna", "Hansen"], caplog.text, (out1, out2))


def test_subject_added_by_form_links_to_the_same_person(unit, console, caplog):
    ok(unit, ADMIN, "concern new severity=normal track=adult age=25+ source=police district=Valby basis=rpl115 "
                    'summary="Anden sag"')
    result = submit(unit, ADMIN, "case.subject", {"age": "15-17", "identifier": "010110-4123"},
                    {"case": "KE-2026-0002"})
    assert result.reply is not None and result.reply.ok
    result = submit(unit, ADMIN, "case.subject", {"age": "15-17", "identifier": "0101104123"},
                    {"case": "KE-2026-0001"})
    assert result.reply is not None and result.reply.ok
    assert pseudonyms(unit, "KE-2026-0002")[-1] == pseudonyms(unit, "KE-2026-0001")[-1]
    assert_nowhere(unit, ["010110-4123"], caplog.text, (reply_text(result.reply),))


def test_lookup_tells_whether_the_person_is_known_and_is_audited_with_purpose(svc, console, caplog):
    caplog.set_level(logging.DEBUG)
    seed_admin(svc)
    console.run(ADMIN, *intake_lines("Bekymring", [("15-17", "241299-3456")]))
    found = submit(svc, ADMIN, "concern.lookup", {"identifier": "2412993456", "purpose": PURPOSE_MARK})
    assert found.reply is not None
    shown = reply_text(found.reply)
    assert "knows this person as" in shown and "KE-2026-0001" in shown
    none = submit(svc, ADMIN, "concern.lookup", {"identifier": "241299-3457", "purpose": "Tjek før møde"})
    assert none.reply is not None and "no cases about this person" in none.reply.text
    missing = submit(svc, ADMIN, "concern.lookup", {"identifier": "241299-3457", "purpose": ""})
    assert missing.errors == {"purpose": "Required."}
    lookups = [e for e in audit_entries(svc) if e.action == "concern.lookup"]
    assert [(e.actor, e.result) for e in lookups] == [(ADMIN, "found"), (ADMIN, "not_found")]
    assert all(e.purpose_ct for e in lookups)
    assert PURPOSE_MARK in decrypted_texts(svc)
    assert_nowhere(svc, ["241299-3456", "241299-3457"], caplog.text, (shown, none.reply.text))


def test_lookup_through_the_console_never_echoes_the_identifier(svc, console):
    seed_admin(svc)
    out = console.run(ADMIN, "concern lookup", "150565-0123", "Forberedelse af møde")
    assert "no cases about this person" in out
    assert "150565" not in out and "0123" not in out


@pytest.mark.parametrize("identifier, message", [
    ("320103-1234", "Not a valid CPR number (DDMMYY-SSSS)."),
    ("Anna Hansen", "Write a CPR number, or a name followed by the birth date."),
    ("Anna Hansen 31-02-2010", "The birth date cannot be read (e.g. 2010-03-04)."),
])
def test_unusable_identifier_is_refused_without_echo_and_stores_nothing(unit, caplog, identifier, message):
    before = row_counts(unit)
    values = {**FORM_BASE["concern.intake"], "subject1_identifier": identifier}
    result = submit(unit, ADMIN, "concern.intake", values)
    assert result.reply is None and result.errors == {"subject1_identifier": message}
    lookup = submit(unit, ADMIN, "concern.lookup", {"identifier": identifier, "purpose": "tjek"})
    assert message in lookup.errors["identifier"]
    assert row_counts(unit) == before
    assert_nowhere(unit, [identifier], caplog.text, tuple(result.errors.values()))


@pytest.mark.parametrize("user_id", ["U23456789", "W87654321", "29384756-ab12-4c6d-9e8f-1a2b3c4d5e6f"])
def test_platform_user_ids_in_mentions_are_not_mistaken_for_phone_numbers(unit, user_id):
    ok(unit, ADMIN, f"unit add <@{user_id}|kollega> role=member org=SSP")
    ref = new_case(unit)
    ok(unit, ADMIN, f"case qualify {ref} level=preventive")
    ok(unit, ADMIN, f"case refer {ref} to=SOF owner=<@{user_id}>")
    assert ref in ok(unit, user_id, "case list mine").text
    refused = run(unit, ADMIN, f"unit add <@{user_id}> role=member org=SSP name=\"ring 22 33 44 55\"")
    assert not refused.ok and "a phone number" in refused.text


def test_subject_added_through_the_console_form(unit, console, caplog):
    # age, identifier, then the person's own track and relation (blank: the case's track, no relation)
    out = console.run(ADMIN, "case subject add KE-2026-0001", "0-14", "030815-4321", "", "")
    assert "added to KE-2026-0001" in out
    expected = linked(unit, cpr="030815-4321")
    assert pseudonyms(unit, "KE-2026-0001")[-1] == expected
    assert format_pseudonym(expected) in out
    assert_nowhere(unit, ["030815-4321"], caplog.text, (out,))


def test_a_crash_while_handling_an_identifier_logs_neither_it_nor_its_message(unit, caplog, monkeypatch):
    def boom(_ctx, raw, *_where):  # identifier_token(ctx, raw, form_id)
        raise ValueError(f"cannot handle {raw}")  # the kind of message that would leak

    monkeypatch.setattr(concerns, "identifier_token", boom)
    before = row_counts(unit)
    values = {**FORM_BASE["concern.intake"], "subject1_identifier": "Anna Hansen 2010-03-04"}
    result = submit(unit, ADMIN, "concern.intake", values)
    assert result.reply is not None and "error id" in result.reply.text
    assert "failed" in caplog.text and "ValueError" in caplog.text  # the log was captured …
    assert row_counts(unit) == before
    assert_nowhere(unit, ["Anna Hansen", "2010-03-04"], caplog.text)  # … without the identifier
