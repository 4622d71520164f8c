import pytest

pytestmark = pytest.mark.django_db


def test_a_seller_signs_up_and_lands_on_their_listings(client, django_user_model):
    response = client.post("/signup/", {"username": "sam", "password1": "rhubarb-crumble-42",
                                        "password2": "rhubarb-crumble-42"})
    assert response.status_code == 302 and response.url == "/"
    assert django_user_model.objects.filter(username="sam").exists()
    assert "My listings" in client.get("/").content.decode()


def test_it_explains_a_password_mismatch(client, django_user_model):
    response = client.post("/signup/", {"username": "sam", "password1": "rhubarb-crumble-42",
                                        "password2": "something-else-42"})
    assert "didn’t match" in response.content.decode()
    assert not django_user_model.objects.exists()


def test_login_and_logout(client, owner):
    assert client.post("/login/", {"username": "olivia", "password": "a-long-password-1"}).status_code == 302
    assert "My listings" in client.get("/").content.decode()
    client.post("/logout/")
    assert "Create a seller account" in client.get("/").content.decode()
