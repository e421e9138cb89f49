"""Model loading: contract checks, checksums, missing and corrupt files; errors name the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from enlighten_desktop.engine.errors import ModelError
from enlighten_desktop.engine.model import EnhancerModel, default_model_path
from enlighten_desktop.resources import RESOURCES_ENV
from tests.model_factory import CONTRACT_METADATA, build_contract_model, write_contract_model


def test_loads_the_contract_and_checksum(cpu_model, contract_model_path):
    assert cpu_model.contract.size_multiple == 16
    assert cpu_model.contract.receptive_margin == 32
    assert cpu_model.contract.name == "test-enhancer"
    assert cpu_model.sha256 == hashlib.sha256(contract_model_path.read_bytes()).hexdigest()


def test_other_contract_version_is_refused_naming_the_file(tmp_path):
    path = write_contract_model(tmp_path / "future.onnx", metadata={"enlighten.contract": "2"})
    with pytest.raises(ModelError, match=r"future\.onnx.*contract 2"):
        EnhancerModel.load(path)


@pytest.mark.parametrize(("key", "value", "words"), [
    ("enlighten.attention", "1-max-rgb", "attention '1-max-rgb'"),
    ("enlighten.input_range", "0,1", "input range '0,1'"),
])
def test_a_model_made_for_another_attention_or_input_range_is_refused(tmp_path, key, value, words):
    # Such a model would run without an error and give wrong colours: the engine only provides 1-luma601
    # attention and [-1, 1] pixels.
    path = write_contract_model(tmp_path / "other.onnx", metadata={key: value})
    with pytest.raises(ModelError, match=rf"other\.onnx expects {words}"):
        EnhancerModel.load(path)


def test_a_model_without_its_input_range_is_refused(tmp_path):
    model = build_contract_model()
    kept = [entry for entry in model.metadata_props if entry.key != "enlighten.input_range"]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    path = tmp_path / "vague.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match=r"vague\.onnx has incomplete"):
        EnhancerModel.load(path)


def test_missing_metadata_is_refused(tmp_path):
    path = write_contract_model(tmp_path / "bare.onnx", metadata={"enlighten.size_multiple": "sixteen"})
    with pytest.raises(ModelError, match=r"bare\.onnx.*malformed"):
        EnhancerModel.load(path)


def test_a_model_without_the_attention_input_is_refused(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["image"], ["enhanced"])], "no_attention",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("enhanced", TensorProto.FLOAT, ["n", 3, "h", "w"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in CONTRACT_METADATA.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    path = tmp_path / "identity.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match=r"identity\.onnx.*'attention'"):
        EnhancerModel.load(path)


def test_checksum_listed_beside_the_model_is_verified(tmp_path):
    path = write_contract_model(tmp_path / "m.onnx")
    good = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "SHA256SUMS").write_text(f"{good}  m.onnx\n{'0' * 64}  other.onnx\n")
    assert EnhancerModel.load(path).sha256 == good
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  m.onnx\n")
    with pytest.raises(ModelError, match=r"m\.onnx is damaged"):
        EnhancerModel.load(path)
    assert EnhancerModel.load(path, verify_checksum=False).sha256 == good


def test_a_flipped_byte_fails_the_export_sidecar_checksum(tmp_path):
    path = write_contract_model(tmp_path / "m.onnx")
    (tmp_path / "m.onnx.sha256").write_text(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  m.onnx\n")
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # one byte in the metadata strings: the checksum must catch even this
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged"):
        EnhancerModel.load(path)


def test_a_shipped_model_missing_from_sha256sums_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path))
    (tmp_path / "models").mkdir()
    path = write_contract_model(default_model_path("fp32"))
    (tmp_path / "models" / "SHA256SUMS").write_text("")
    with pytest.raises(ModelError, match="not listed"):
        EnhancerModel.load(path)


def test_missing_and_corrupt_files_give_model_errors(tmp_path):
    with pytest.raises(ModelError, match=r"nothing\.onnx does not exist"):
        EnhancerModel.load(tmp_path / "nothing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(ModelError, match=r"junk\.onnx could not be loaded"):
        EnhancerModel.load(junk)


def test_default_model_path_lives_in_resources_models():
    assert default_model_path("int8").name == "enlightengan-int8.onnx"
    assert default_model_path().parent.name == "models"
    assert (default_model_path().parent.parent / "samples").is_dir()
    with pytest.raises(ModelError):
        default_model_path("fp16")


def test_resources_are_found_under_meipass_when_frozen(tmp_path, monkeypatch):
    from enlighten_desktop import resources

    monkeypatch.delenv(RESOURCES_ENV, raising=False)
    monkeypatch.setattr(resources.sys, "frozen", True, raising=False)
    monkeypatch.setattr(resources.sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.models_dir() == Path(tmp_path) / "resources" / "models"
