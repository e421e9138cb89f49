"""Providers: what is offered, what is chosen, and the CPU fallback at load and at run time.

This ONNX Runtime is the CPU build, so the load-time fallback is exercised for real by asking for CUDA
and DirectML, which it lacks. A GPU that fails while running cannot be produced here; instead a real
session that has a non-CPU provider registered (Azure, which this build includes) and that really fails
in ``session.run`` (its image size is pinned to 16 x 16) stands in for it. That shows the engine's
recovery: a CPU session is built, the tile is rerun, the reason is recorded once. It cannot show that a
particular GPU driver's failure surfaces as an exception rather than, say, a hang.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import onnxruntime as ort
import pytest

from enlighten_desktop.bench import synthetic_photo
from enlighten_desktop.engine.errors import ModelError, ProviderError
from enlighten_desktop.engine.model import EnhancerModel
from enlighten_desktop.engine.pipeline import enhance, run_to_end
from enlighten_desktop.engine.providers import (
    CPU,
    ProviderReport,
    SessionSettings,
    available_providers,
    providers_for,
    unavailable_notice,
)
from tests.model_factory import write_contract_model


def test_the_list_always_ends_with_the_cpu():
    assert CPU in available_providers()
    for request in ("auto", "cpu", "cuda", "dml", "coreml"):
        assert providers_for(request, 1)[-1] == CPU
    assert providers_for("cpu") == [CPU]


def test_unknown_request_is_refused():
    with pytest.raises(ProviderError, match="Unknown device 'tpu'"):
        providers_for("tpu")


@pytest.mark.parametrize(
    ("request_", "provider"), [("cuda", "CUDAExecutionProvider"), ("dml", "DmlExecutionProvider")]
)
def test_a_missing_gpu_provider_falls_back_to_the_cpu_with_a_reason(contract_model_path, caplog, request_,
                                                                     provider):
    if provider in available_providers():
        pytest.skip(f"{provider} is installed here")
    assert "not available" in unavailable_notice(request_)
    with caplog.at_level(logging.WARNING):
        model = EnhancerModel.load(contract_model_path, provider=request_, device=1)
    assert model.provider.requested == request_
    assert model.provider.active == CPU
    assert provider in model.provider.fallback_reason and "CPU" in model.provider.fallback_reason
    assert sum(provider in r.getMessage() for r in caplog.records) == 1


def _failing_session(path, providers):
    """A real session whose run fails for any image bigger than 16 x 16."""
    options = ort.SessionOptions()
    for axis in ("height", "width"):
        options.add_free_dimension_override_by_name(axis, 16)
    return ort.InferenceSession(str(path), options, providers=providers)


def test_a_provider_failing_at_run_time_is_replaced_by_the_cpu_once(cpu_model, contract_model_path, caplog):
    if "AzureExecutionProvider" not in available_providers():
        pytest.skip("needs a second provider to stand in for a GPU")
    session = _failing_session(contract_model_path, ["AzureExecutionProvider", CPU])
    model = EnhancerModel(
        path=contract_model_path, contract=cpu_model.contract, sha256=cpu_model.sha256, session=session,
        provider=ProviderReport(requested="auto", active=session.get_providers()[0]),
        settings=cpu_model.settings,
    )
    photo = synthetic_photo(70, 40)
    with caplog.at_level(logging.WARNING):
        first = run_to_end(enhance(model, photo, tile=32))
        second = run_to_end(enhance(model, photo, tile=32))
    assert first.provider.active == CPU
    assert "AzureExecutionProvider failed while enhancing" in first.provider.fallback_reason
    assert sum("failed while enhancing" in r.getMessage() for r in caplog.records) == 1
    expected = run_to_end(enhance(cpu_model, photo, tile=32)).enhanced
    np.testing.assert_array_equal(first.enhanced, expected)
    np.testing.assert_array_equal(second.enhanced, expected)


def test_threads_sharing_a_model_whose_provider_fails_switch_to_the_cpu_once(cpu_model, contract_model_path,
                                                                             caplog):
    # The app's workers share one loaded model. Both threads run on the failing session at the same moment,
    # so both see it fail: the session must be replaced once, and the report must still name the provider
    # that failed (a second switch would report the CPU itself as having failed).
    if "AzureExecutionProvider" not in available_providers():
        pytest.skip("needs a second provider to stand in for a GPU")
    image = np.full((1, 3, 32, 32), -0.5, np.float32)
    attention = np.full((1, 1, 32, 32), 0.8, np.float32)
    expected = cpu_model.run(image, attention)
    rounds = 5
    for _round in range(rounds):
        session = _failing_session(contract_model_path, ["AzureExecutionProvider", CPU])
        model = EnhancerModel(
            path=contract_model_path, contract=cpu_model.contract, sha256=cpu_model.sha256, session=session,
            provider=ProviderReport(requested="auto", active=session.get_providers()[0]),
            settings=cpu_model.settings,
        )
        start = threading.Barrier(2)
        results: list[np.ndarray] = []

        def run(model=model, start=start, results=results) -> None:
            start.wait()
            results.append(model.run(image, attention))

        threads = [threading.Thread(target=run) for _ in range(2)]
        with caplog.at_level(logging.WARNING):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert len(results) == 2
        for result in results:
            np.testing.assert_array_equal(result, expected)
        assert model.provider.active == CPU
        assert model.provider.fallback_reason.startswith("AzureExecutionProvider failed")
    assert sum("failed while enhancing" in r.getMessage() for r in caplog.records) == rounds


def test_a_cpu_session_failing_at_run_time_is_a_model_error(cpu_model, contract_model_path):
    session = _failing_session(contract_model_path, [CPU])
    model = EnhancerModel(
        path=contract_model_path, contract=cpu_model.contract, sha256=cpu_model.sha256, session=session,
        provider=ProviderReport(requested="cpu", active=CPU), settings=cpu_model.settings,
    )
    with pytest.raises(ModelError, match="test-enhancer.onnx failed"):
        run_to_end(enhance(model, synthetic_photo(40, 40)))


@pytest.mark.parametrize(("precision", "arena"), [("fp32", False), ("int8", True)])
def test_the_memory_arena_follows_the_models_precision_unless_asked(tmp_path, precision, arena):
    """fp32 runs without ONNX Runtime's arena (its memory sets the tile); int8 with it and without the memory
    pattern (faster and smaller). The choice is read from the model's metadata and reaches the session ONNX
    Runtime really runs; an explicit setting wins."""
    path = write_contract_model(tmp_path / f"{precision}.onnx", metadata={"enlighten.precision": precision})
    model = EnhancerModel.load(path, provider="cpu", verify_checksum=False)
    options = model._session.get_session_options()
    assert model.settings.memory_arena is arena
    assert (options.enable_cpu_mem_arena, options.enable_mem_pattern) == (arena, not arena)
    forced = EnhancerModel.load(path, provider="cpu", verify_checksum=False,
                                settings=SessionSettings(memory_arena=not arena))
    options = forced._session.get_session_options()
    assert (options.enable_cpu_mem_arena, options.enable_mem_pattern) == (not arena, arena)
