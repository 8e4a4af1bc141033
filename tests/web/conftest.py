"""The browser fixtures (one chromium per test session) for the tests in this folder."""

from tests.web.browser import chromium, new_page

__all__ = ["chromium", "new_page"]
