"""Pure logic of PaymentBatchWorkflow: which events each model scores, how each step's
answers land on each event's enrichment, and the per-outcome counts.

Every event ends with the enrichment the per-event PaymentEventWorkflow would have given
it, in the same words: a broken business rule skips its scores, a model unavailable after
its attempts or a refusal is noted in enrichment_missing (policies.describe_failure and
describe_refusal).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from contracts import PaymentEvent
from orchestration.enrichment import plan_models
from orchestration.models import Enrichment, ModelAnswer, ValidationResult
from orchestration.policies import describe_refusal, describe_skip
from orchestration.rules import differing_fields

# The scoring steps in the order the workflow schedules them (a fixed order: a replay
# compares the commands in order).
MODELS = ("fraud", "retry", "churn")


def plan_scores(events: Sequence[PaymentEvent], validations: Sequence[ValidationResult]
                ) -> tuple[dict[str, list[int]], list[Enrichment]]:
    """The events (batch positions) each model scores, and each event's enrichment so far
    (an invalid event's scores marked skipped). Models nobody needs are left out."""
    if len(events) != len(validations):
        raise ValueError(f"{len(validations)} validations for {len(events)} events")
    needs: dict[str, list[int]] = {model: [] for model in MODELS}
    enrichments = [Enrichment() for _ in events]
    for position, (event, validation) in enumerate(zip(events, validations, strict=True)):
        for model in plan_models(event):
            if validation.errors:
                enrichments[position].missing[model] = describe_skip(validation.errors)
            else:
                needs[model].append(position)
    return {model: positions for model, positions in needs.items() if positions}, enrichments


def apply_answers(enrichments: list[Enrichment], model: str, positions: Sequence[int],
                  answers: Sequence[ModelAnswer]) -> None:
    """Put one model's answers on the events it scored; a refusal becomes the missing reason."""
    if len(positions) != len(answers):
        raise ValueError(f"{model}: {len(answers)} answers for {len(positions)} events")
    for position, answer in zip(positions, answers, strict=True):
        if answer.refused is not None:
            enrichments[position].missing[model] = describe_refusal(answer.refused)
        else:
            setattr(enrichments[position], model, getattr(answer, model))


def mark_missing(enrichments: list[Enrichment], model: str, positions: Sequence[int],
                 reason: str) -> None:
    """One model's step failed for good: its score is missing on every event it served."""
    for position in positions:
        enrichments[position].missing[model] = reason


def count_outcomes(outcomes: Iterable[str]) -> dict[str, int]:
    """outcome -> events, in a stable (sorted) order."""
    return dict(sorted(Counter(outcomes).items()))


def delivery_differs(running: Sequence[PaymentEvent], delivered: Sequence[PaymentEvent]) -> bool:
    """Whether a redelivered batch holds other events, or the same ids with other content
    (processed_at aside), than the batch this workflow runs."""
    ours = {event.event_id: event for event in running}
    if len(delivered) != len(running) or {e.event_id for e in delivered} != ours.keys():
        return True
    return any(differing_fields(event, ours[event.event_id]) for event in delivered)
