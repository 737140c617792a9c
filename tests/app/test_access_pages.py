"""Login on: only signed-in users with a grant get in, each into their own workspaces."""

from __future__ import annotations

from pagetest import make_app, page_texts

from core.datasets import create_demo_dataset
from core.workspace import Workspace

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-secret",
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "https://accounts.example/.well-known/openid-configuration",
}
ACCESS = {"marketing": ["ana@shop.example", "*@growth.example"], "finance": ["bob@shop.example"]}


def _app(email: str | None, access=ACCESS):
    at = make_app()
    at.secrets["auth"] = AUTH
    at.secrets["segstudio"] = {"access": access}
    at.user = {"is_logged_in": True, "email": email} if email else {"is_logged_in": False}
    return at


def test_signed_out_users_see_only_the_login_button(workspace_root):
    at = _app(None).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in"]
    assert "Sign in to continue" in page_texts(at)
    assert not (workspace_root / "workspaces").exists()


def test_users_without_a_grant_are_turned_away(workspace_root):
    at = _app("mallory@elsewhere.example").run()
    assert not at.exception
    assert any("has no workspace" in e.value for e in at.error)
    assert [b.label for b in at.button] == ["Log out"]


def test_malformed_access_list_is_reported_not_a_traceback(workspace_root):
    at = _app("ana@shop.example", access={"m": "ana@shop.example"}).run()
    assert not at.exception
    assert any("access list in the secrets is malformed" in e.value for e in at.error)


def test_each_user_sees_only_their_workspaces(workspace_root):
    marketing = Workspace(workspace_root / "workspaces" / "marketing")
    create_demo_dataset(marketing, n_customers=300, seed=1)
    Workspace(workspace_root / "workspaces" / "finance")  # empty

    ana = _app("ana@shop.example").run()
    assert not ana.exception
    assert "Signed in as ana@shop.example" in page_texts(ana)
    assert ana.selectbox(key="sidebar_dataset").value == "demo"
    assert not [s for s in ana.selectbox if s.key == "sidebar_workspace"]  # only one grant

    bob = _app("bob@shop.example").run()
    assert not bob.exception
    assert not [s for s in bob.selectbox if s.key == "sidebar_dataset"]
    assert "No dataset yet" in page_texts(bob)
    # Bob loads the demo into *his* workspace; Ana's is untouched by it and vice versa.
    next(b for b in bob.button if b.key == "home_load_demo").click().run()
    assert not bob.exception
    assert Workspace(workspace_root / "workspaces" / "finance").has_dataset("demo")
    assert (
        len(marketing.get_dataset("demo").tables)
        and marketing.get_dataset("demo").n_customers == 300
    )
    # The unscoped home workspace stays empty: nothing leaks outside the granted ones.
    assert not (workspace_root / "datasets").exists() or not any(
        (workspace_root / "datasets").iterdir()
    )


def test_a_user_with_two_grants_switches_workspace(workspace_root):
    create_demo_dataset(
        Workspace(workspace_root / "workspaces" / "marketing"), n_customers=300, seed=1
    )
    Workspace(workspace_root / "workspaces" / "finance")
    both = {"marketing": ["cat@shop.example"], "finance": ["cat@shop.example"]}
    at = _app("cat@shop.example", access=both).run()
    assert not at.exception
    assert at.selectbox(key="sidebar_workspace").value == "marketing"
    assert at.selectbox(key="sidebar_dataset").value == "demo"
    at.selectbox(key="sidebar_workspace").set_value("finance").run()
    assert not at.exception
    assert not [s for s in at.selectbox if s.key == "sidebar_dataset"]
    assert "No dataset yet" in page_texts(at)
