"""DLQReviewWorkflow: quarantine a dead letter, take one bound and attributed decision, apply it.

A decision arrives as the ``review_decision`` *update*. Its validator runs the checks of
orchestration.review_rules and refuses, to the caller, a decision this review cannot take:
an approval whose corrected event does not keep the dead letter's event id, a reviewer that
is not an identity, a missing or oversized reason, a second decision. A refused decision
never enters the history; an accepted one is applied by the run, which writes the audit row
(dlq_review_audit: who, when, what, why) in the same transaction as the quarantine row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from contracts import DeadLetter, PaymentEvent
    from contracts.workflows import (
        DLQ_REVIEW,
        PAYMENT_EVENT,
        REVIEW_DECISION_UPDATE,
        STATUS_QUERY,
        ReviewDecision,
        workflow_id,
    )
    from orchestration.activities import QuarantineActivities
    from orchestration.models import (
        DLQReviewResult,
        DLQReviewStatus,
        PaymentEventResult,
        QuarantineRecord,
        ReviewAudit,
        ReviewOutcome,
    )
    from orchestration.policies import (
        PERSIST_RETRY,
        PERSIST_TIMEOUT,
        persist_in_rounds,
        read_worker_budget,
    )
    from orchestration.review_rules import (
        DecisionRefusedError,
        audit_decision,
        audit_expiry,
        check_decision,
    )


@workflow.defn(name=DLQ_REVIEW.workflow)
class DLQReviewWorkflow:
    """Quarantine a dead letter, wait for a reviewer, then re-drive or close it."""

    @workflow.init
    def __init__(self, dead_letter: DeadLetter) -> None:
        self._letter = dead_letter
        self._review_status = "quarantining"
        self._received = 0
        self._decision: ReviewDecision | None = None
        self._corrected: PaymentEvent | None = None
        self._audit: ReviewAudit | None = None

    @workflow.signal(name=DLQ_REVIEW.signal)
    def record_dead_letter(self, dead_letter: DeadLetter) -> None:
        """Count a (re)delivery of the dead letter from the starter."""
        self._received += 1

    @workflow.update(name=REVIEW_DECISION_UPDATE)
    def decide(self, decision: ReviewDecision) -> DLQReviewStatus:
        """Take the reviewer's verdict (the validator below has checked it) and say so."""
        self._corrected = self._check(decision)
        self._decision = decision
        info, update = workflow.info(), workflow.current_update_info()
        self._audit = audit_decision(
            self._letter.event_id, decision, workflow_id=info.workflow_id, run_id=info.run_id,
            update_id=update.id if update else None, decided_at=workflow.now())
        return self.status()

    @decide.validator
    def validate_decision(self, decision: ReviewDecision) -> None:
        """Refuse, to the caller and outside the history, a decision this review cannot take."""
        if self._decision is not None:
            self._refuse(f"already decided: {self._decision.decision} by "
                         f"{self._decision.reviewer}")
        if self._review_status != "pending":
            self._refuse(f"the review is {self._review_status}, not waiting for a decision"
                         + ("; try again in a moment" if self._review_status == "quarantining"
                            else ""))
        self._check(decision)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> DLQReviewStatus:
        """The review status of this quarantined event."""
        decision = self._decision
        # last_error stays None: a refused decision is now the caller's answer (the update
        # validator), and no longer a note here for the reviewer to poll for.
        return DLQReviewStatus(self._letter.event_id, self._review_status,
                               decision.reviewer if decision else None, self._received,
                               None, decision.decision if decision else None)

    @workflow.run
    async def run(self, dead_letter: DeadLetter) -> DLQReviewResult:
        """Persist to quarantine, then approve (re-drive), reject or expire."""
        record: QuarantineRecord = await persist_in_rounds(
            lambda: workflow.execute_activity_method(
                QuarantineActivities.persist_quarantine, dead_letter,
                start_to_close_timeout=PERSIST_TIMEOUT, retry_policy=PERSIST_RETRY,
            ),
            "persist_quarantine", read_worker_budget,
        )
        self._review_status = record.review_status
        if record.review_status != "pending":
            return DLQReviewResult(dead_letter.event_id, record.review_status)
        timeout = record.review_timeout_seconds
        try:
            await workflow.wait_condition(lambda: self._decision is not None,
                                          timeout=timedelta(seconds=timeout))
        except TimeoutError:
            pass  # a decision accepted in the timer's own activation still counts
        decision, audit = self._decision, self._audit
        if decision is None or audit is None:
            self._review_status = "expiring"  # the validator refuses decisions from here on
            info = workflow.info()
            await self._record(ReviewOutcome(dead_letter.event_id, "expired", audit=audit_expiry(
                dead_letter.event_id, workflow_id=info.workflow_id, run_id=info.run_id,
                decided_at=workflow.now(), timeout_seconds=timeout)))
            return DLQReviewResult(dead_letter.event_id, "expired")
        if decision.decision == "reject":
            await self._record(ReviewOutcome(dead_letter.event_id, "rejected", decision.reviewer,
                                             decision.reason, audit=audit))
            return DLQReviewResult(dead_letter.event_id, "rejected")
        corrected = self._corrected
        if corrected is None:  # decide() sets it with every approval
            raise ApplicationError("approval without an event to re-drive", non_retryable=True)
        await self._record(ReviewOutcome(dead_letter.event_id, "approved", decision.reviewer,
                                         decision.reason, decision.corrected_event, audit))
        await self._redrive(corrected)
        return DLQReviewResult(dead_letter.event_id, "approved", corrected.event_id)

    def _check(self, decision: ReviewDecision) -> PaymentEvent | None:
        try:
            return check_decision(self._letter, decision)
        except DecisionRefusedError as err:
            self._refuse(str(err))

    def _refuse(self, why: str) -> NoReturn:
        # Logged so that refused attempts are seen (the history never holds them); the
        # decision's content is not logged, only why it was refused.
        workflow.logger.warning("review decision for %s refused: %s", self._letter.event_id, why)
        raise ApplicationError(why, type="ReviewRefused", non_retryable=True)

    async def _record(self, outcome: ReviewOutcome) -> None:
        await persist_in_rounds(
            lambda: workflow.execute_activity_method(
                QuarantineActivities.record_review, outcome,
                start_to_close_timeout=PERSIST_TIMEOUT, retry_policy=PERSIST_RETRY,
            ),
            "record_review", read_worker_budget,
        )
        self._review_status = outcome.review_status

    async def _redrive(self, event: PaymentEvent) -> None:
        # By type name, so this module needs nothing of PaymentEventWorkflow's.
        try:
            await workflow.execute_child_workflow(
                PAYMENT_EVENT.workflow, event, id=workflow_id(PAYMENT_EVENT, event.event_id),
                result_type=PaymentEventResult,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            # The corrected event is already in flight from another delivery; that run
            # persists it, idempotently, so there is nothing more to do here.
            workflow.logger.info("%s is already being processed", event.event_id)
