"""The load test's users: promoters, agencies and officers of the city, in a realistic mix (locust).

Run by bench/load_test.py, which prepares the accounts and writes their credentials to the JSON
file named by LOAD_ACCOUNTS: promoter and officer sessions (with their visible lead ids) and agency
API keys. Each request is named for its endpoint, so the figures come out per endpoint.

The users are FastHttpUser (geventhttpclient): about a fifth of the CPU of requests' HttpUser per
request, so that the generator, which shares the machine's two cores with the server, takes well
under one of them (bench/load_test.py reports how much it took).
"""

import datetime as dt
import itertools
import json
import os
import random
import uuid
from pathlib import Path

from locust import FastHttpUser, between, task

ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text(encoding="utf-8"))
_promoters = itertools.cycle(ACCOUNTS["promoters"])
_officers = itertools.cycle(ACCOUNTS["officers"])
_agencies = itertools.cycle(ACCOUNTS["agencies"])
CSRF = "f" * 32

# Waits between tasks. They bound what 50 users can send however fast the server answers: 30
# promoters at 1 s on average send 30 requests a second, 10 officers at 1.5 s send 13.3 (their
# dashboard task is four requests, weight 3 of 9: 2 a task on average), 10 agencies 6.7, about 50 in
# all. The goal is 3× the first measurement's 9.8 requests a second (29.4): the scenario must be able
# to send well over that, or a fast server looks slow (the former waits of 1–3 s and 2–5 s capped it
# near 21 whatever the server did).
PROMOTER_WAIT = (0.5, 1.5)
OTHER_WAIT = (1.0, 2.0)


class User(FastHttpUser):
    """Sends its own headers (a session cookie or an API key) with every request."""

    abstract = True

    def on_start(self):
        self.headers: dict[str, str] = {}

    def get(self, path: str, name: str, *, fragment: bool = False):
        # A fragment (crm.web.fragments.fragment_of) is asked for as htmx does: without HX-Request it
        # redirects to its whole page, which the client would follow and time instead.
        headers = {**self.headers, "HX-Request": "true"} if fragment else self.headers
        return self.client.get(path, name=name, headers=headers)

    def post(self, path: str, json: dict, name: str):
        return self.client.post(path, json=json, name=name, headers=self.headers)


def _signed_in(user: User, session_key: str) -> None:
    # A plain Cookie header: production marks cookies Secure, which a client over HTTP never sends back.
    user.headers["Cookie"] = f"sessionid={session_key}; csrftoken={CSRF}"
    user.headers["X-CSRFToken"] = CSRF


class Promoter(User):
    """Browses own leads (pages and API), their matches, and logs calls and visits."""

    weight = 6
    wait_time = between(*PROMOTER_WAIT)

    def on_start(self):
        super().on_start()
        account = next(_promoters)
        _signed_in(self, account["session"])
        self.leads = account["leads"]

    def _lead(self) -> int:
        return random.choice(self.leads)

    @task(4)
    def lead_list_page(self):
        self.get("/leads/", name="page: lead list")

    @task(3)
    def lead_detail_page(self):
        self.get(f"/leads/{self._lead()}/", name="page: lead detail")

    @task(2)
    def desk_page(self):
        self.get("/desk/", name="page: desk")

    @task(4)
    def lead_list_api(self):
        self.get("/api/v1/leads/", name="api: lead list")

    @task(3)
    def lead_detail_api(self):
        self.get(f"/api/v1/leads/{self._lead()}/", name="api: lead detail")

    @task(2)
    def matches_api(self):
        self.get(f"/api/v1/leads/{self._lead()}/matches/", name="api: lead matches")

    @task(1)
    def matches_page(self):
        self.get(f"/leads/{self._lead()}/matches/", name="page: lead matches", fragment=True)

    @task(2)
    def log_activity(self):
        now = dt.datetime.now(dt.UTC)
        self.post(
            f"/api/v1/leads/{self._lead()}/activities/",
            json={
                "kind": random.choice(["call", "visit"]),
                "occurred_at": now.isoformat(),
                "notes": "压测:电话沟通 / load test call",
                "next_follow_up_at": (now + dt.timedelta(days=7)).isoformat(),
            },
            name="api: log activity",
        )


class Agency(User):
    """An agency's system: submits new companies and reads its own leads, with its API key."""

    weight = 2
    wait_time = between(*OTHER_WAIT)

    def on_start(self):
        super().on_start()
        self.headers["Authorization"] = f"Api-Key {next(_agencies)['key']}"

    @task(1)
    def submit_lead(self):
        # A unique company each time: a company another party already follows is a 409 by design.
        company = f"压测企业{uuid.uuid4().hex[:12]}有限公司"
        self.post(
            "/api/v1/leads/",
            json={
                "company_name": company,
                "contact_name": "王经理",
                "contact_phone": "13800000000",
                "lawful_basis": "consent",
                "area_min_m2": "200",
                "area_max_m2": "400",
                "budget_rent": "4.50",
            },
            name="api (agency): submit lead",
        )

    @task(3)
    def own_leads(self):
        self.get("/api/v1/leads/", name="api (agency): lead list")


class Officer(User):
    """The district office: the plan dashboard, indicators and the leaderboard."""

    weight = 2
    wait_time = between(*OTHER_WAIT)

    def on_start(self):
        super().on_start()
        _signed_in(self, next(_officers)["session"])

    @task(3)
    def dashboard(self):
        # The page and the fragments it loads at once, as a browser would.
        self.get("/plan/", name="page: plan dashboard")
        self.get("/plan/streets/", name="page: dashboard street table", fragment=True)
        self.get("/plan/map/", name="page: dashboard map", fragment=True)
        self.get("/plan/forecast/", name="page: forecast", fragment=True)

    @task(3)
    def indicators(self):
        self.get("/api/v1/indicators/", name="api: indicators")

    @task(1)
    def leaderboard(self):
        self.get("/appraisal/", name="page: leaderboard")

    @task(2)
    def lead_list(self):
        self.get("/api/v1/leads/", name="api: lead list (office)")
