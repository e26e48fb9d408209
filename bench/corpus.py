"""A generated corpus of news-like articles of realistic length for the benchmarks.

Sentences are written for this project and recombined with varied names, numbers and dates, plus a few
made-up words per article so the model sees new strings the way a live feed does.
"""

from __future__ import annotations

import random

from wirewatch.streams.records import Article

SENTENCES = [
    "{state} fired {count} ballistic missiles toward the {sea} on {day}, the {agency} said.",
    "The missiles flew about {km} kilometres at an altitude of {alt} kilometres before falling into the sea.",
    "{official}, the {state2} defence minister, said the launch violated several Security Council resolutions.",
    "Officials in {city} said they were analysing the flight data with their allies.",
    "The foreign ministry summoned the ambassador and lodged a formal protest on {day}.",
    "Analysts said the test appeared designed to show that the programme had advanced despite sanctions.",
    "Markets in {city} fell slightly after the news before recovering in afternoon trading.",
    "The government said it would hold an emergency meeting of the national security council.",
    "{official} told reporters that diplomacy remained the best way to resolve the dispute.",
    "Satellite images published by a research group showed new construction near the launch site.",
    "The United Nations Security Council is expected to discuss the launch at a closed meeting next week.",
    "Residents of coastal towns were told to stay indoors while the alert was in force.",
    "The agriculture ministry announced a new subsidy for rice growers affected by the drought.",
    "Opposition lawmakers accused the government of failing to prepare for the crisis.",
    "A spokesperson for {org} said the organisation was monitoring the situation closely.",
    "Shipping companies rerouted several vessels away from the area as a precaution.",
    "The president spoke with the leaders of {state2} and {state3} by telephone on {day}.",
    "Experts said the new engine could in theory carry a heavier payload over a longer distance.",
    "The talks, which began last year, have stalled over the sequence of sanctions relief and disarmament.",
    "Local media reported that the {codename} programme had received additional funding this year.",
    "Police said traffic in central {city} was disrupted by a protest against rising fuel prices.",
    "The central bank kept interest rates unchanged, citing uncertainty about growth and inflation.",
    "Military officials said joint exercises with {state2} would go ahead as planned next month.",
    "The statement, carried by the state news agency, called the drills a rehearsal for invasion.",
]
STATES = ["North Korea", "Iran", "Russia", "China", "Pakistan", "India"]
STATES2 = ["South Korea", "Japan", "the United States", "France", "the United Kingdom", "Germany"]
SEAS = ["Sea of Japan", "Yellow Sea", "Gulf of Oman", "Pacific Ocean", "Arabian Sea"]
CITIES = ["Seoul", "Tokyo", "Washington", "Tehran", "Moscow", "Beijing", "Paris", "London"]
OFFICIALS = ["Kim Min-su", "Akira Tanaka", "Sarah Collins", "Reza Karimi", "Ivan Petrov", "Li Wei"]
ORGS = ["the IAEA", "NATO", "the European Union", "the Red Cross", "the World Food Programme"]
AGENCIES = ["Joint Chiefs of Staff", "defence ministry", "coast guard", "military"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))


def make_article(rng: random.Random, words: int = 500, index: int = 0) -> Article:
    parts: list[str] = []
    count = 0
    while count < words:
        sentence = rng.choice(SENTENCES).format(
            state=rng.choice(STATES),
            state2=rng.choice(STATES2),
            state3=rng.choice(STATES2),
            count=rng.choice(["two", "three", "a", "several"]),
            sea=rng.choice(SEAS),
            day=rng.choice(DAYS),
            agency=rng.choice(AGENCIES),
            km=rng.randint(100, 1500),
            alt=rng.randint(30, 2000),
            official=rng.choice(OFFICIALS),
            city=rng.choice(CITIES),
            org=rng.choice(ORGS),
            codename=_made_up_word(rng).capitalize(),
        )
        parts.append(sentence)
        count += len(sentence.split())
    text = " ".join(parts) + f" Reported by {_made_up_word(rng).capitalize()} {_made_up_word(rng).capitalize()}."
    return Article.create(text, url=f"bench://corpus/{index}", title=f"Article {index}", feed="bench")


def make_corpus(n: int, words: int = 500, seed: int = 7) -> list[Article]:
    rng = random.Random(seed)
    return [make_article(rng, words, i) for i in range(n)]


def word_count(articles: list[Article]) -> int:
    return sum(len(a.text.split()) for a in articles)
