"""Browser tests. A package so that their module names (browser.test_board, …) do not clash
with the request-level tests of the same name in tests/web/."""
