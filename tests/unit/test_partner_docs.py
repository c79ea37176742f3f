"""The generated parts of the partner docs match the code they are generated from."""

from __future__ import annotations

import json

from ledgerline.api.validator_page import examples as page_examples
from ledgerline.api.validator_page import page
from ledgerline.domain.envelope import CATEGORIES
from tools.payload_docs import PAGES, examples, field_summary, generated


def test_field_summaries_and_page_examples_are_up_to_date():
    stale = [str(path) for path, text in generated().items() if path.read_text(encoding="utf-8") != text]
    assert not stale, f"regenerate with `make docs`: {stale}"


def test_every_payload_field_is_summarised_once_on_its_page():
    for name, category in CATEGORIES.items():
        page_text = (PAGES / f"{name}.md").read_text(encoding="utf-8")
        summary = field_summary(category)
        assert summary in page_text
        rows = [line.split("|")[1].strip(" `") for line in summary.splitlines()[2:]]
        assert rows == list(category.model.model_fields)


def test_the_summary_says_what_each_kind_of_disbursement_requires():
    summary = field_summary(CATEGORIES["disbursement"])
    assert "| `maturity_date` | date or timestamp | required for a loan |" in summary
    assert "| `goods_status` | `pending` \\| `in_transit` \\| `delivered` \\| `returned` | required for a purchase |" in summary
    assert "| `currency` | ISO 4217 code | required | cannot change |" in summary


def test_the_validator_page_offers_every_category_with_the_docs_examples():
    offered = page_examples()
    assert {e["category"] for e in offered} == set(CATEGORIES)
    documented = [event for name in CATEGORIES for _, event in examples((PAGES / f"{name}.md").read_text("utf-8"))]
    assert [e["event"] for e in offered] == documented
    assert json.dumps(offered[0]["event"]).replace("</", "<\\/")[:40] in page()
