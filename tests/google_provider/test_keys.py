"""``hybrid-calendar google import-key`` stores the key as an encrypted organisation secret."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from hybrid_calendar.builder import opened_gateway
from hybrid_calendar.cli import main
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Organisation
from hybrid_calendar_google.context import ORG_SECRET_NAME


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[gateway]\ndata_dir = "{tmp_path / "data"}"\n'
                    '[plugins]\nenabled = ["google", "kms_local"]\nload_entrypoints = false\n'
                    + extra)
    return path


def _with_store(config: Path, action: str, org_id: str = "org1") -> str | None:
    async def run() -> str | None:
        async with opened_gateway(*load_config(str(config))) as gateway:
            if action == "create":
                await gateway.store.put_organisation(Organisation(org_id, "Org", "example.com"))
                return None
            return await gateway.store.get_org_secret(org_id, ORG_SECRET_NAME)

    return asyncio.run(run())


def test_import_key_stores_sealed_secret(tmp_path: Path, sa_info: dict[str, str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    _with_store(config, "create")
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(sa_info))
    assert main(["google", "import-key", "--config", str(config), "--org", "org1",
                 str(key_file)]) == 0
    out = capsys.readouterr().out
    assert "112233445566778899" in out and "PRIVATE" not in out
    assert json.loads(_with_store(config, "read") or "{}") == sa_info
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert any(p.name == "gateway.sqlite3" for p in files)
    for path in files:
        content = path.read_bytes()
        assert b"PRIVATE KEY" not in content and sa_info["client_email"].encode() not in content


def test_import_key_refuses_unknown_org_and_bad_keys(tmp_path: Path, sa_info: dict[str, str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(sa_info))
    assert main(["google", "import-key", "--config", str(config), "--org", "nope",
                 str(key_file)]) == 2
    assert "unknown organisation" in capsys.readouterr().err
    key_file.write_text(json.dumps({**sa_info, "private_key": "garbage"}))
    assert main(["google", "import-key", "--config", str(config), "--org", "nope",
                 str(key_file)]) == 2
    assert "cannot be read" in capsys.readouterr().err
    key_file.write_text(json.dumps([sa_info]))  # valid JSON, but not a key object
    assert main(["google", "import-key", "--config", str(config), "--org", "nope",
                 str(key_file)]) == 2
    assert "not a JSON object" in capsys.readouterr().err


def test_import_key_names_the_configured_scopes(tmp_path: Path, sa_info: dict[str, str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, '[google]\nscopes = ["https://www.googleapis.com/auth/calendar"]\n')
    _with_store(config, "create")
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(sa_info))
    assert main(["google", "import-key", "--config", str(config), "--org", "org1",
                 str(key_file)]) == 0
    out = capsys.readouterr().out
    assert "scopes: https://www.googleapis.com/auth/calendar\n" in out and "gmail" not in out
