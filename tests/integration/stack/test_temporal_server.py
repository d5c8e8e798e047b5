"""A trivial workflow runs on the real Temporal dev server."""

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.worker import Worker


@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@workflow.defn
class GreetingWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=10)
        )


async def test_trivial_workflow_runs_on_the_dev_server(temporal_client, unique):
    queue = f"test-{unique}"
    async with Worker(temporal_client, task_queue=queue, workflows=[GreetingWorkflow],
                      activities=[greet]):
        result = await temporal_client.execute_workflow(
            GreetingWorkflow.run, "stack", id=f"greeting-{unique}", task_queue=queue,
            execution_timeout=timedelta(seconds=30),
        )
    assert result == "hello stack"


async def test_time_skipping_server_comes_from_the_wheel(time_skipping_env, unique):
    queue = f"test-{unique}"
    async with Worker(time_skipping_env.client, task_queue=queue, workflows=[GreetingWorkflow],
                      activities=[greet]):
        result = await time_skipping_env.client.execute_workflow(
            GreetingWorkflow.run, "skipper", id=f"greeting-{unique}", task_queue=queue,
        )
    assert result == "hello skipper"
