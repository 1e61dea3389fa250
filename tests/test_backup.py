"""Backup and restore round trip."""
import pytest
from sqlalchemy import text


def _count_users(db):
    with db.transaction() as session:
        return session.execute(text("SELECT count(*) FROM users")).scalar()


def test_backup_restore_round_trip(runner, db, tmp_path):
    before = _count_users(db)
    backup_file = tmp_path / "sao-luu.sqlite3"
    result = runner.invoke(args=["backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert backup_file.exists()
    created = runner.invoke(args=["create-user", "moi", "--role", "planner"], input="mot-mat-khau-dai\n")
    assert created.exit_code == 0
    assert _count_users(db) == before + 1
    restored = runner.invoke(args=["restore", str(backup_file), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _count_users(db) == before


def test_restore_needs_confirmation(runner, tmp_path):
    result = runner.invoke(args=["restore", str(tmp_path / "x.sqlite3")])
    assert result.exit_code != 0 and "--yes" in result.output


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(runner, db, tmp_path):
    before = _count_users(db)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code != 0
    assert "not a Bản đồ 138 database backup" in result.output
    assert _count_users(db) == before


def test_restore_refuses_missing_file(runner, tmp_path):
    result = runner.invoke(args=["restore", str(tmp_path / "none.sqlite3"), "--yes"])
    assert result.exit_code != 0 and "does not exist" in result.output


def test_backup_refusals_follow_the_cli_language(tmp_path):
    """A backup refusal is a catalog message: the command line words it in BANDO_CLI_LANGUAGE."""
    from store.backup import BackupError, restore

    with pytest.raises(BackupError) as refused:
        restore(f"sqlite:///{tmp_path / 'live.sqlite3'}", tmp_path / "nowhere.sqlite3")
    assert "does not exist" in str(refused.value)
    assert refused.value.text("vi").startswith("không có tệp sao lưu")
