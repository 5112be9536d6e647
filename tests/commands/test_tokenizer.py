"""The command language's words: key=value, quoted values, platform mentions — examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.tokenizer import Args, Token, TokenizeError, to_args, tokenize, user_ref

KEYS = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
PLAIN = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"),
                                       blacklist_characters="\"'“”„«»‘’=<\\"), min_size=1, max_size=20)
QUOTABLE = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\'), max_size=40)
USER_IDS = st.from_regex(r"[A-Za-z0-9._:\-]{1,20}", fullmatch=True)


def test_words_options_texts_and_mentions():
    tokens = tokenize('case note KE-2026-0001 owner=<@U123|ann> "Skolen ringede" kind=mentor')
    assert tokens == [
        Token("word", "case"), Token("word", "note"), Token("word", "KE-2026-0001"),
        Token("option", "<@U123|ann>", "owner"), Token("text", "Skolen ringede"), Token("option", "mentor", "kind"),
    ]
    assert user_ref(tokens[3].value) == "U123"


def test_quoted_option_values_keep_spaces_and_danish_quotes():
    assert tokenize('summary="Udtaler støtte til IS" district="Indre By"') == [
        Token("option", "Udtaler støtte til IS", "summary"), Token("option", "Indre By", "district")]
    assert tokenize("summary=“Han sagde nej”") == [Token("option", "Han sagde nej", "summary")]
    assert tokenize("summary=„Han sagde nej“") == [Token("option", "Han sagde nej", "summary")]
    assert tokenize("summary=«Han sagde nej»") == [Token("option", "Han sagde nej", "summary")]
    assert tokenize(r'"a \"quoted\" word"') == [Token("text", 'a "quoted" word')]
    assert tokenize("'single quoted'") == [Token("text", "single quoted")]


def test_apostrophes_inside_words_are_not_quotes():
    assert tokenize("don't stop") == [Token("word", "don't"), Token("word", "stop")]


def test_option_keys_are_case_insensitive():
    assert tokenize("Severity=HIGH") == [Token("option", "HIGH", "severity")]


@pytest.mark.parametrize("text, code", [
    ('summary="never closed', "unclosed_quote"),
    ("“open", "unclosed_quote"),
    ("1abc=x", "bad_option"),
    ("sev-erity=x", "bad_option"),
])
def test_bad_text_raises_tokenize_error_with_code(text, code):
    with pytest.raises(TokenizeError) as info:
        tokenize(text)
    assert info.value.code == code


def test_duplicate_option_is_an_error():
    with pytest.raises(TokenizeError) as info:
        to_args(tokenize("kind=mentor KIND=exit"))
    assert info.value.code == "duplicate_option"


@pytest.mark.parametrize("raw", ["<@U123>", "<@U123|ann hansen>", "@U123", "U123", "  <@U123>  "])
def test_user_ref_accepts_every_way_of_naming_a_user(raw):
    assert user_ref(raw) == "U123"


def test_mentions_become_mention_tokens_even_with_spaces_in_the_name():
    args = to_args(tokenize("unit add <@U9|Mette Mentor> role=mentor"))
    assert args == Args(words=["unit", "add"], mentions=["U9"], options={"role": "mentor"})
    args = to_args(tokenize("case refer KE-2026-0001 to=SOF owner=<@U9|Mette Mentor>"))
    assert user_ref(args.options["owner"]) == "U9"


@given(st.text(max_size=200))
def test_tokenize_only_ever_raises_tokenize_error(text):
    try:
        tokens = tokenize(text)
    except TokenizeError as exc:
        assert exc.code in ("unclosed_quote", "bad_option")
        return
    for tok in tokens:
        assert tok.kind in ("word", "text", "option", "mention")
        if tok.kind == "word":
            assert tok.value and not any(ch.isspace() for ch in tok.value)
        if tok.kind == "option":
            assert tok.key and tok.key == tok.key.lower()


@given(KEYS, PLAIN)
def test_key_value_round_trips(key, value):
    assert tokenize(f"{key}={value}") == [Token("option", value, key)]


@given(KEYS, QUOTABLE)
def test_quoted_value_round_trips(key, value):
    assert tokenize(f'{key}="{value}"') == [Token("option", value, key)]


@given(QUOTABLE)
def test_escaped_quotes_round_trip(value):
    escaped = value.replace("\\", "\\\\")
    assert tokenize(f'"{escaped}"') == [Token("text", value)]
    with_quote = value + '"'
    assert tokenize('"' + with_quote.replace("\\", "\\\\").replace('"', '\\"') + '"') == [Token("text", with_quote)]


@given(USER_IDS, st.one_of(st.none(), st.from_regex(r"[^>\s]{1,12}", fullmatch=True)))
def test_mentions_round_trip(user_id, name):
    written = f"<@{user_id}>" if name is None else f"<@{user_id}|{name}>"
    assert tokenize(written) == [Token("mention", user_id)]
    assert user_ref(written) == user_id


@given(st.lists(st.one_of(
    PLAIN.map(lambda w: ("word", w)),
    st.tuples(KEYS, PLAIN).map(lambda kv: ("option", kv)),
    QUOTABLE.map(lambda q: ("text", q)),
    USER_IDS.map(lambda u: ("mention", u)),
), max_size=8), st.sampled_from([" ", "  ", "\t", " \n "]))
def test_a_sequence_of_pieces_tokenizes_to_those_pieces(pieces, sep):
    written, expected = [], []
    for kind, value in pieces:
        if kind == "word":
            if value.startswith("@") or ("=" in value):
                continue
            written.append(value)
            expected.append(Token("word", value))
        elif kind == "option":
            written.append(f"{value[0]}={value[1]}")
            expected.append(Token("option", value[1], value[0]))
        elif kind == "text":
            written.append(f'"{value}"')
            expected.append(Token("text", value))
        else:
            written.append(f"<@{value}>")
            expected.append(Token("mention", value))
    assert tokenize(sep.join(written)) == expected
