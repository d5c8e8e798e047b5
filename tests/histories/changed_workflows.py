"""Workflows changed in ways the replay test must catch (its own module so that the strict
sandbox can re-import it: a module that imports pytest cannot be)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():  # as orchestration/workflows.py does
    from contracts import PaymentEvent
    from contracts.workflows import PAYMENT_EVENT
    from orchestration.models import PaymentEventResult
    from orchestration.policies import RULES_TIMEOUT
    from orchestration.workflows import PaymentEventWorkflow


@workflow.defn(name=PAYMENT_EVENT.workflow)
class SkipsScoringWorkflow:
    """A changed PaymentEventWorkflow: it persists right after validating."""

    @workflow.signal(name=PAYMENT_EVENT.signal)
    def record_delivery(self, event: PaymentEvent) -> None:
        pass

    @workflow.run
    async def run(self, event: PaymentEvent) -> None:
        for step in ("validate_business_rules", "persist_to_postgres"):
            await workflow.execute_local_activity(step, event,
                                                  start_to_close_timeout=RULES_TIMEOUT)


@workflow.defn(name=PAYMENT_EVENT.workflow)
class ReadsTheClockWorkflow(PaymentEventWorkflow):
    """A changed PaymentEventWorkflow that reads the wall clock: not deterministic."""

    @workflow.init
    def __init__(self, event: PaymentEvent) -> None:
        super().__init__(event)

    @workflow.run
    async def run(self, event: PaymentEvent) -> PaymentEventResult:
        workflow.logger.info("started at %s", datetime.now(UTC))
        return await super().run(event)
