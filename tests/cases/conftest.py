import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def png():
    return lambda name="screen.png": SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def signed_in(client):
    def sign_in(user, language="en"):
        # Several demo accounts prefer Korean; pages are checked in English unless asked.
        user.language = language
        user.save(update_fields=["language"])
        client.force_login(user)
        return client

    return sign_in
