"""The reviewer is the caller's identity, never text typed with the decision; the CLI refuses
what the workflow would refuse before sending anything. No servers."""

from __future__ import annotations

import json
import os
import pwd
from types import SimpleNamespace

import pytest

from orchestration import review
from orchestration.review_rules import DecisionRefusedError
from orchestration.reviewers import Reviewer, client_identity, os_account, resolve_reviewer
from tests.builders import event_json, make_bound_letter

ME = pwd.getpwuid(os.getuid()).pw_name


def test_the_os_account_is_the_real_uids_not_the_environments(monkeypatch):
    # $USER and $LOGNAME are whatever the caller sets; getpass.getuser would believe them.
    for name in ("USER", "LOGNAME", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "mallory")
    assert os_account() == ME
    assert resolve_reviewer(None) == Reviewer(ME, "os_user", ME)


def test_a_uid_without_a_passwd_entry_is_still_its_account():
    def no_entry(uid):
        raise KeyError(uid)

    assert os_account(4242, lookup=no_entry) == "uid:4242"
    assert resolve_reviewer(None, os_user="uid:4242").name == "uid:4242"


def test_a_configured_identity_is_used_and_said_to_be_configured():
    reviewer = resolve_reviewer("triage-bot@payments", os_user="runner")
    assert reviewer == Reviewer("triage-bot@payments", "configured", "runner")
    assert "reviewer=triage-bot@payments (configured) os_user=runner" in client_identity(reviewer)


@pytest.mark.parametrize(("configured", "os_user"), [("two words", "ana"), (None, "bad name")])
def test_an_identity_that_is_not_an_account_name_is_refused(configured, os_user):
    with pytest.raises(DecisionRefusedError, match="is not an identity"):
        resolve_reviewer(configured, os_user=os_user)


@pytest.mark.parametrize("command", ["approve", "reject"])
def test_the_cli_takes_no_reviewer_and_needs_a_reason(command, capsys):
    with pytest.raises(SystemExit) as exited:
        review.parse_args([command, "stripe:evt_1", "--reason", "r", "--reviewer", "ana"])
    assert exited.value.code == 2
    assert "--reviewer is not taken: the reviewer is the OS account" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        review.parse_args([command, "stripe:evt_1"])
    assert "--reason" in capsys.readouterr().err


def test_a_bad_configured_identity_stops_the_cli_naming_the_setting(monkeypatch, capsys):
    monkeypatch.setenv("ORCHESTRATOR_REVIEWER_IDENTITY", "Ana from payments")
    assert review.main(["reject", "stripe:evt_1", "--reason", "test data"]) == 2
    assert "invalid configuration: ORCHESTRATOR_REVIEWER_IDENTITY" in capsys.readouterr().err


def quarantine_row(letter, status: str = "pending") -> dict:
    """The payment_events_quarantine row the CLI reads (the columns it uses)."""
    return {"event_id": letter.event_id, "source_topic": letter.source_topic,
            "source_partition": letter.source_partition, "source_offset": letter.source_offset,
            "original_payload": letter.payload, "payload_encoding": letter.payload_encoding,
            "errors": [{"code": i.code, "message": i.message, "field": i.field}
                       for i in letter.errors],
            "quarantined_at": letter.failed_at, "review_status": status,
            "payload_sha256": letter.payload_sha256, "payload_length": letter.payload_length,
            "payload_truncated": letter.payload_truncated,
            "payload_redaction": letter.payload_redaction}


def approve_args(letter, path, reason="fixed amount"):
    return SimpleNamespace(command="approve", event_id=letter.event_id, reason=reason,
                           corrected_event_file=path)


def test_the_cli_builds_a_bound_decision_from_the_os_account(tmp_path):
    letter, event = make_bound_letter()
    path = tmp_path / "fixed.json"
    path.write_text(json.dumps(event_json(event)))
    me = resolve_reviewer(None)
    sent = review.build_decision(approve_args(letter, path, "  fixed amount \n"), me,
                                 quarantine_row(letter))
    assert (sent.decision, sent.reviewer, sent.identity_source, sent.reason) == (
        "approve", ME, "os_user", "fixed amount")
    assert sent.corrected_event == event_json(event)


def test_the_cli_refuses_a_correction_with_another_event_id_before_sending(tmp_path):
    letter, _ = make_bound_letter()
    _, other = make_bound_letter()
    path = tmp_path / "other.json"
    path.write_text(json.dumps(event_json(other)))
    with pytest.raises(review.ReviewRefusedError, match="cannot approve: .*must keep it"):
        review.build_decision(approve_args(letter, path), resolve_reviewer(None),
                              quarantine_row(letter))


def test_the_cli_refuses_a_decided_row_and_an_unreadable_file(tmp_path):
    letter, _ = make_bound_letter()
    with pytest.raises(review.ReviewRefusedError, match="already approved"):
        review.build_decision(approve_args(letter, None), resolve_reviewer(None),
                              quarantine_row(letter, "approved"))
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(review.ReviewRefusedError, match="cannot read"):
        review.build_decision(approve_args(letter, path), resolve_reviewer(None),
                              quarantine_row(letter))
