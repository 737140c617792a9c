from __future__ import annotations

import pytest

from core.access import AccessConfigError, AccessPolicy, workspace_root


def test_allowlist_matches_exact_addresses_and_domains_case_insensitively():
    policy = AccessPolicy.from_mapping(
        {
            "marketing": ["Ana@Shop.example", "*@growth.shop.example"],
            "finance": ["bob@shop.example"],
        }
    )
    assert policy.allowed("ana@shop.example") == ["marketing"]
    assert policy.allowed(" ANA@shop.EXAMPLE ") == ["marketing"]
    assert policy.allowed("zoe@growth.shop.example") == ["marketing"]
    assert policy.allowed("bob@shop.example") == ["finance"]
    # Neither a sub-domain nor a look-alike address gets in.
    assert policy.allowed("eve@evil.growth.shop.example") == []
    assert policy.allowed("ana@shop.example.evil.com") == []
    assert policy.allowed("") == [] and policy.allowed(None) == []


def test_no_table_lets_nobody_in():
    assert AccessPolicy.from_mapping(None).allowed("ana@shop.example") == []


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"Marketing Team": ["a@b.co"]}, "workspace name 'Marketing Team'"),
        ({"../etc": ["a@b.co"]}, "workspace name '../etc'"),
        ({"m": "a@b.co"}, "[segstudio.access].m must be a list"),
        ({"m": ["not-an-address"]}, "'not-an-address' is neither an e-mail address nor *@domain"),
        ({"m": ["*"]}, "'*' is neither"),
        (["a@b.co"], "must be a table"),
    ],
)
def test_malformed_tables_are_refused_naming_the_entry(table, message):
    with pytest.raises(AccessConfigError) as err:
        AccessPolicy.from_mapping(table)
    assert message in str(err.value)


def test_workspace_root_refuses_path_tricks(tmp_path):
    assert workspace_root(tmp_path, "marketing") == tmp_path / "workspaces" / "marketing"
    with pytest.raises(ValueError):
        workspace_root(tmp_path, "../../etc")
