"""GitHub's issue-comment endpoints: one report comment per pull request, updated in place.

Only these three calls are used (list, create, update an issue comment). The marker search is
what CML's `--watermark-title` / cml#512 ask for: later runs edit the comment they wrote.
"""

from __future__ import annotations

from typing import Any

import httpx

from mlcicd.errors import ConfigInvalidError, MlcicdError, UnavailableError


def upsert_comment(api_url: str, token: str | None, repo: str, pr: int, body: str,
                   marker: str) -> tuple[str, int]:
    """Update the comment containing `marker`, or create one. Returns (action, comment id)."""
    if "/" not in repo:
        raise ConfigInvalidError(f"--repo must be owner/name, got {repo!r}")
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    base = api_url.rstrip("/")
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=15) as client:
            # BEGIN SOLUTION
            existing = _find(client, repo, pr, marker)
            if existing is not None:
                response = client.patch(f"/repos/{repo}/issues/comments/{existing}",
                                        json={"body": body})
                _check(response)
                return "updated", existing
            response = client.post(f"/repos/{repo}/issues/{pr}/comments", json={"body": body})
            _check(response)
            return "created", int(response.json()["id"])
            # END SOLUTION
    except httpx.TransportError as exc:
        raise UnavailableError(
            f"GitHub API at {base} is unreachable ({type(exc).__name__})") from exc


def _find(client: httpx.Client, repo: str, pr: int, marker: str) -> int | None:
    page = 1
    while True:
        response = client.get(f"/repos/{repo}/issues/{pr}/comments",
                              params={"per_page": 100, "page": page})
        _check(response)
        comments: list[dict[str, Any]] = response.json()
        for comment in comments:
            if marker in (comment.get("body") or ""):
                return int(comment["id"])
        if len(comments) < 100:
            return None
        page += 1


def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise MlcicdError(f"GitHub API {response.request.method} {response.request.url.path} "
                          f"answered {response.status_code}")
