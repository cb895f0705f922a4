"""The image data store on a real directory."""

import hashlib

import pytest

from cloud.adapters.imagestore import DataMismatch, ImageStore, ImageTooLarge

ID = "5a2b1c3d-1111-4a1a-9a1a-000000000001"


def test_staged_data_is_hashed_and_placed_only_on_commit(tmp_path):
    store = ImageStore(tmp_path / "images")
    staging = store.stage(ID)
    staging.write(b"hello ")
    staging.write(b"world")
    digest = staging.finish(expected_size=11, expected_md5=hashlib.md5(b"hello world").hexdigest())
    assert digest.size == 11
    assert digest.os_hash_value == hashlib.sha512(b"hello world").hexdigest()
    assert store.open(ID) is None
    store.commit(staging, ID)
    with store.open(ID) as data:
        assert data.read() == b"hello world"
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [ID]
    store.remove(ID)
    store.remove(ID)
    assert store.open(ID) is None


def test_too_large_or_mismatched_data_is_refused(tmp_path):
    store = ImageStore(tmp_path, max_size=4)
    staging = store.stage(ID)
    with pytest.raises(ImageTooLarge):
        staging.write(b"12345")
    staging.discard()
    staging = store.stage(ID)
    staging.write(b"1234")
    with pytest.raises(DataMismatch):
        staging.finish(expected_md5="0" * 32)
    staging.discard()
    assert list(tmp_path.iterdir()) == []


def test_ids_cannot_escape_the_directory(tmp_path):
    with pytest.raises(ValueError):
        ImageStore(tmp_path).path("../etc/passwd")
