"""The findings of matching: one per person and outcome, and one per link that ended (stable codes)."""

from __future__ import annotations

from homeroom.findings.rules import Rule, register

#: The rule code of each matching outcome.
OUTCOME_RULES = {
    "matched": "PersonMatched",
    "unmatched": "PersonUnmatched",
    "ambiguous": "PersonMatchAmbiguous",
    "conflicting": "PersonMatchConflicting",
}
LINK_ENDED = "PersonLinkEnded"

register(
    __name__,
    Rule("PersonMatched", ("info",), "record", "A person was matched to exactly one directory account.",
         "Matched to account {value} by {field}.", "The link is kept in match_links."),
    Rule("PersonUnmatched", ("warning",), "record", "No directory account matches the person by any of the role group's rules.",
         "No account in target {target} matches this person.", "The person has no link; provisioning may create an account."),
    Rule("PersonMatchAmbiguous", ("warning",), "record",
         "Several directory accounts match the person by the first rule that matches at all (two accounts for one person).",
         "Several accounts match this person: {value}.", "The person has no link until only one account matches."),
    Rule("PersonMatchConflicting", ("warning",), "record",
         "The one account that matches the person also matches someone else (one account for two people).",
         "Account {value} matches this person and others.", "None of the people claiming the account is linked to it."),
    Rule("PersonLinkEnded", ("info",), "record", "A person's link to an account ended since the last match.",
         "The link to account {value} ended: {reason}.", "The link row keeps why (unlinkReason)."),
)
