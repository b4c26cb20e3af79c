"""Management with a user's API token: models, environments, keys, deployments and the activity log."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Union

from ._http import Transport, base_url as resolve_url, model_name, segment
from .errors import ConfigurationError


class Admin:
    """Scripts and notebooks managing a Slipway server with an API token (``token`` or ``SLIPWAY_TOKEN``).

    >>> admin = Admin()
    >>> admin.create_model("acme/churn", description="Who will cancel next month")
    >>> key = admin.create_key("acme/churn", kind="deploy", name="ci", environments=["staging"])["secret"]
    """

    def __init__(
        self,
        token: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        session: Any = None,
    ):
        token = token or os.environ.get("SLIPWAY_TOKEN")
        if not token:
            raise ConfigurationError("no API token: pass token=… or set SLIPWAY_TOKEN")
        self.base_url = resolve_url(base_url)
        self._transport = Transport(
            self.base_url, {"Authorization": f"Bearer {token}"}, timeout=timeout, retries=retries, session=session
        )

    def _get(self, path: str, action: str, **params: Any) -> Any:
        return self._transport.json("GET", path, action, params={k: v for k, v in params.items() if v is not None})

    @staticmethod
    def _model(model: str) -> str:
        owner, name = model_name(model)
        return f"/api/v1/models/{segment(owner)}/{segment(name)}"

    # MARK: users

    def whoami(self) -> Dict[str, Any]:
        """The signed-in user."""
        return self._get("/api/v1/users/me", "reading the signed-in user")

    # MARK: models

    def create_model(self, model: str, *, public: bool = False, description: str = "", **fields: Any) -> Dict[str, Any]:
        """Creates ``owner/name`` (with ``production`` and ``staging``); ``fields``: topics, card, key_metric…"""
        owner, name = model_name(model)
        body = {"owner": owner, "name": name, "public": public, "description": description, **fields}
        return self._transport.json("POST", "/api/v1/models", f"creating {model}", json=body)

    def model(self, model: str) -> Dict[str, Any]:
        return self._get(self._model(model), f"reading {model}")

    def models(self, owner: Optional[str] = None, q: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every model the token may read (optionally one owner's, or matching ``q``)."""
        params = {k: v for k, v in (("owner", owner), ("q", q)) if v is not None}
        return list(self._transport.pages("/api/v1/models", "listing models", params))

    def update_model(self, model: str, **fields: Any) -> Dict[str, Any]:
        return self._transport.json("PATCH", self._model(model), f"updating {model}", json=fields)

    def delete_model(self, model: str) -> None:
        self._transport.request("DELETE", self._model(model), f"deleting {model}")

    # MARK: environments

    def create_environment(self, model: str, name: str) -> Dict[str, Any]:
        return self._transport.json(
            "POST", f"{self._model(model)}/environments", f"creating environment {name} of {model}", json={"name": name}
        )

    def environments(self, model: str) -> List[Dict[str, Any]]:
        return self._get(f"{self._model(model)}/environments", f"listing environments of {model}")

    def delete_environment(self, model: str, name: str) -> None:
        self._transport.request(
            "DELETE", f"{self._model(model)}/environments/{segment(name)}", f"deleting environment {name} of {model}"
        )

    # MARK: keys

    def create_key(
        self,
        model: str,
        *,
        kind: str,
        name: str,
        environments: Iterable[str],
        rate_limit: Optional[int] = None,
        expires_in_days: Optional[int] = None,
    ) -> Dict[str, Any]:
        """Creates a ``deploy`` or ``serving`` key; the answer's ``secret`` is shown only this once."""
        body: Dict[str, Any] = {"kind": kind, "name": name, "environments": list(environments)}
        if rate_limit is not None:
            body["rate_limit"] = rate_limit
        if expires_in_days is not None:
            body["expires_in_days"] = expires_in_days
        return self._transport.json("POST", f"{self._model(model)}/keys", f"creating a {kind} key for {model}", json=body)

    def keys(self, model: str) -> List[Dict[str, Any]]:
        return self._get(f"{self._model(model)}/keys", f"listing the keys of {model}")

    def revoke_key(self, model: str, key_id: str) -> None:
        self._transport.request("DELETE", f"{self._model(model)}/keys/{segment(key_id)}", f"revoking key {key_id}")

    # MARK: deployments

    def deployments(
        self, model: str, environment: Optional[str] = None, status: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        """Every deployment of ``model`` (newest first), optionally of one environment or status."""
        params = {k: v for k, v in (("environment", environment), ("status", status)) if v is not None}
        return list(self._transport.pages(f"{self._model(model)}/deployments", f"listing deployments of {model}",
                                          params))

    def deployment(self, model: str, environment: str, version: int) -> Dict[str, Any]:
        return self._get(
            f"{self._model(model)}/environments/{segment(environment)}/deployments/{int(version)}",
            f"reading {model} {environment} version {version}",
        )

    def live(self, model: str, environment: str, at: Optional[Union[str, datetime]] = None) -> Dict[str, Any]:
        """Which version was live in ``environment`` at ``at`` (default now)."""
        return self._get(
            f"{self._model(model)}/environments/{segment(environment)}/live",
            f"reading the live version of {model} {environment}",
            at=_time(at),
        )

    # MARK: traffic

    def _environment(self, model: str, environment: str) -> str:
        return f"{self._model(model)}/environments/{segment(environment)}"

    def traffic(self, model: str, environment: str = "production") -> Dict[str, Any]:
        """The environment's traffic: arms (the active version first), shadows, sticky feature, live rollout."""
        return self._get(f"{self._environment(model, environment)}/traffic", f"reading the traffic of {model}")

    def set_traffic(
        self,
        model: str,
        environment: str = "production",
        *,
        weights: Optional[Dict[int, int]] = None,
        shadows: Optional[Dict[int, int]] = None,
        sticky_feature: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Splits the traffic: ``weights`` maps versions to percents (the active version among them, summing to
        100), ``shadows`` maps versions to the percent of requests copied to them.

        >>> admin.set_traffic("acme/churn", weights={3: 90, 4: 10}, shadows={5: 100})
        """
        body: Dict[str, Any] = {
            "arms": [{"version": int(v), "weight": int(w)} for v, w in (weights or {}).items()],
            "shadows": [{"version": int(v), "percent": int(p)} for v, p in (shadows or {}).items()],
        }
        if sticky_feature:
            body["sticky_feature"] = sticky_feature
        return self._transport.json(
            "PUT", f"{self._environment(model, environment)}/traffic", f"changing the traffic of {model}", json=body
        )

    def clear_traffic(self, model: str, environment: str = "production") -> Dict[str, Any]:
        """Sends all traffic to the active version again, with no shadows."""
        return self._transport.json(
            "DELETE", f"{self._environment(model, environment)}/traffic", f"clearing the traffic of {model}"
        )

    def start_rollout(
        self,
        model: str,
        version: int,
        environment: str = "production",
        *,
        steps: Iterable[int] = (5, 25, 50, 100),
        interval: Union[str, float] = "10m",
        guardrails: str = "",
    ) -> Dict[str, Any]:
        """Starts a progressive rollout of ``version``: its share grows through ``steps`` every ``interval``
        (seconds or ``"10m"``) while ``guardrails`` hold, and goes back to zero by itself when one fails.

        >>> admin.start_rollout("acme/churn", 4, guardrails="error_rate<1%,p99_ms<20,key_metric>=baseline-0.01")
        """
        body = {"version": int(version), "steps": [int(s) for s in steps], "interval": interval,
                "guardrails": guardrails}
        return self._transport.json(
            "POST", f"{self._environment(model, environment)}/rollouts", f"starting a rollout of {model}", json=body
        )

    def rollout(self, model: str, environment: str = "production") -> Dict[str, Any]:
        """The latest rollout, with its guardrails judged now while it is live."""
        return self._get(f"{self._environment(model, environment)}/rollouts/current", f"reading the rollout of {model}")

    def rollouts(self, model: str, environment: str = "production") -> List[Dict[str, Any]]:
        """Every rollout of the environment, newest first."""
        return self._get(f"{self._environment(model, environment)}/rollouts", f"listing the rollouts of {model}")

    def pause_rollout(self, model: str, environment: str = "production") -> Dict[str, Any]:
        return self._rollout_command(model, environment, "pause")

    def resume_rollout(self, model: str, environment: str = "production") -> Dict[str, Any]:
        return self._rollout_command(model, environment, "resume")

    def abort_rollout(self, model: str, environment: str = "production") -> Dict[str, Any]:
        return self._rollout_command(model, environment, "abort")

    def _rollout_command(self, model: str, environment: str, command: str) -> Dict[str, Any]:
        return self._transport.json(
            "POST",
            f"{self._environment(model, environment)}/rollouts/current/{command}",
            f"{command} the rollout of {model}",
        )

    def experiment(
        self,
        model: str,
        environment: str = "production",
        since: Optional[Union[str, datetime]] = None,
        until: Optional[Union[str, datetime]] = None,
        confidence: Optional[float] = None,
    ) -> Dict[str, Any]:
        """The experiment readout: per arm, requests, the key metric with its confidence interval and a test
        against the baseline (the active version), with the minimum detectable effect."""
        return self._get(
            f"{self._environment(model, environment)}/experiment",
            f"reading the experiment of {model}",
            **{"from": _time(since), "to": _time(until), "confidence": confidence},
        )

    # MARK: activity

    def activity(
        self,
        model: str,
        environment: Optional[str] = None,
        action: Optional[Union[str, List[str]]] = None,
        since: Optional[Union[str, datetime]] = None,
        until: Optional[Union[str, datetime]] = None,
    ) -> List[Dict[str, Any]]:
        """The activity log of ``model``, newest first, filtered by environment, action(s) and time."""
        params: Dict[str, Any] = {}
        if environment:
            params["environment"] = environment
        if action:
            params["action"] = [action] if isinstance(action, str) else list(action)
        if since is not None:
            params["since"] = _time(since)
        if until is not None:
            params["until"] = _time(until)
        return list(self._transport.pages(f"{self._model(model)}/activity", f"reading the activity of {model}",
                                          params))

    def __repr__(self) -> str:
        return f"<Admin {self.base_url}>"


def _time(value: Optional[Union[str, datetime]]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ConfigurationError("times must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return value.isoformat().replace("+00:00", "Z")
