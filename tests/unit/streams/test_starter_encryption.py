"""The starter sends every event and dead letter through the pipeline's payload codec."""

from __future__ import annotations

import inspect

import pytest
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

import streams.starter
from encryption import EncryptionCodec
from streams.workflow_starts import WorkflowStarter


def test_the_starters_client_encrypts_with_the_configured_key():
    converter = streams.starter.starter.data_converter
    assert isinstance(converter.payload_codec, EncryptionCodec)
    # Failure messages too (an activity's error names the event's values).
    assert converter.failure_converter_class is DefaultFailureConverterWithEncodedAttributes


def test_a_starter_cannot_be_made_without_a_data_converter():
    parameter = inspect.signature(WorkflowStarter).parameters["data_converter"]
    assert parameter.default is inspect.Parameter.empty
    with pytest.raises(TypeError, match="data_converter"):
        WorkflowStarter("127.0.0.1:1", "default", "q")
