import json

from vmevalkit.atomic import append_line, write_json, write_text
from vmevalkit.secrets import REDACTED, register_secret, scrub, scrub_value


def test_registered_and_environment_secrets_are_scrubbed(monkeypatch):
    register_secret("sk-registered-123456")
    monkeypatch.setenv("FAL_KEY", "fal-env-key-987654")
    text = scrub("reply: sk-registered-123456 and fal-env-key-987654 twice fal-env-key-987654")
    assert "sk-registered" not in text and "fal-env-key" not in text and text.count(REDACTED) == 3
    register_secret("abc")  # too short to be a key: ordinary words are left alone
    assert scrub("abc def") == "abc def"


def test_credential_values_are_scrubbed_even_when_unregistered():
    for raw in ['Authorization: Bearer unknown-token-1', '{"authorization": "Key zzzzzzzzzzzz"}',
                "https://h/v1/x?key=AIzaUnregistered&alt=json", "x-goog-api-key: AIzaOther", "bearer abcdefghijkl"]:
        out = scrub(raw)
        assert REDACTED in out and not any(s in out for s in ("unknown-token", "zzzz", "AIzaUnregistered",
                                                             "AIzaOther", "abcdefghijkl")), out
    assert scrub("move the token positions left") == "move the token positions left"
    assert scrub_value({"a": ["Bearer qqqqqqqqqq"], "n": 3}) == {"a": [f"Bearer {REDACTED}"], "n": 3}


def test_every_text_writer_scrubs(tmp_path):
    register_secret("sk-writer-secret-42")
    write_text(tmp_path / "a.txt", "sk-writer-secret-42")
    write_json(tmp_path / "b.json", {"body": "echo sk-writer-secret-42"})
    append_line(tmp_path / "c.jsonl", json.dumps({"e": "sk-writer-secret-42"}))
    for name in ("a.txt", "b.json", "c.jsonl"):
        assert "sk-writer-secret-42" not in (tmp_path / name).read_text() and REDACTED in (tmp_path / name).read_text()
