"""Identifiers written in words: a date of birth, a street address, a person's full name (storage/pii.py scans for
them beside the CPR, phone and e-mail patterns).

Each detector returns spans only. They lean towards flagging — a refused sentence costs a rephrase — but leave
alone what the unit writes every day: dates without a birth cue (meetings, deadlines), a place without a house
number or postcode ("Nørrebro Station", "Amager Øst"), an org ("Politiet"), a first name alone ("Mette fra
SSP"). docs/privacy.md says where the lines are drawn and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

NAMES_FILE = Path(__file__).with_name("data") / "first_names_da.txt"

# --- date of birth ----------------------------------------------------------------------------------------

_MONTHS = (r"(?:januar|january|jan|februar|february|feb|marts|march|mar|april|apr|maj|may|juni|june|jun|juli|july"
           r"|jul|august|aug|september|sept|sep|oktober|october|okt|oct|november|nov|december|dec)\.?")
_DATE = rf"""(?:
      [0-9]{{1,2}}[./-][0-9]{{1,2}}[./-](?:[0-9]{{4}}|[0-9]{{2}})(?![0-9])       # 01.01.1990, 1/1-90
    | [0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}(?![0-9])                             # 1990-01-01
    | [0-9]{{1,2}}\.?\s*(?:den\s+)?{_MONTHS}\s*(?:[0-9]{{4}}|[0-9]{{2}})(?![0-9])  # 1. januar 1990, 1 Jan 90
    | {_MONTHS}\s+[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s+[0-9]{{4}}(?![0-9])            # January 1, 1990
    | [0-9]{{6}}(?:[0-9]{{2}})?(?![0-9])                                          # 010190, 01011990
)"""
# A cue word, then a little filler ("født den", "født: ", "born on the"), then the date. The short cue "f."
# takes the date at once, so "f.eks. 1.1.2027" (for example) is no cue.
_DOB = re.compile(
    rf"""(?<![\w.])(?:
        (?:født|fødd|fødselsdato|fødselsdag|fødsels-\s?dato|born|dob|d\.o\.b\.?|date\ of\ birth|birth\ ?date|birthday)
            (?:[\s:,]|den|d\.|on|the|ca\.|omkring|about)*?
      | f\.\s*
    ){_DATE}""",
    re.IGNORECASE | re.VERBOSE,
)


def birth_dates(text: str) -> Iterator[tuple[int, int]]:
    """A date written after a birth cue ("født 01.01.1990", "f. 1. januar 1990", "DOB 1990-01-01")."""
    for match in _DOB.finditer(text):
        yield match.start(), match.end()


# --- street address ---------------------------------------------------------------------------------------

_UPPER = "A-ZÆØÅÉÜÖÄ"
_LOWER = "a-zæøåéüöä"
_SUFFIX = (r"(?:gade|vej|allé|alle|boulevard|plads|pladsen|torv|torvet|stræde|strædet|vænge|vænget|vang|vangen"
           r"|parken|haven|bakke|bakken|kaj|kajen|stien|passage|løkke|toften|tværgade|tværvej)")
_STREET_WORD = r"(?:Vej|Allé|Alle|Gade|Plads|Boulevard|Torv|Stræde|Park|Have|Vænge|Kaj|Sti|Passage)"
_FLOOR = r"(?:\s*,?\s*(?:(?:st|kl|kld)\.?|[0-9]{1,2}\.)(?:\s*(?:sal|tv|th|mf)\.?)?(?![\w]))?"  # 4 st. tv., 2. th.
_STREET = re.compile(
    rf"""(?<![\w])(?:
        (?:[{_UPPER}][\w.'-]*\s+){{0,3}}[{_UPPER}][{_LOWER}-]*{_SUFFIX}     # Nørrebrogade, H.C. Ørsteds Vej...
      | (?:[{_UPPER}][\w.'-]*\s+){{1,3}}{_STREET_WORD}                   # Peter Bangs Vej, Sankt Hans Torv
      | [{_LOWER}]{{3,}}{_SUFFIX}                                          # nørrebrogade, typed in lower case
    )\s+[0-9]{{1,4}}[A-Za-z]?(?![0-9]|[.:/-][0-9]){_FLOOR}""",
    re.VERBOSE,
)

_DISTRICT_LETTERS = r"(?:NV|NØ|SV|SØ|N|S|K|V|Ø|C)"
# Towns a postcode is written with; a postcode before another capitalised word counts too, unless it could be
# a year (1900-2099), where the town must be one of these or carry a district letter ("2300 København S").
TOWNS = frozenset("""
københavn kbh kbh. frederiksberg valby vanløse brønshøj hellerup kastrup dragør hvidovre rødovre herlev glostrup
ballerup gentofte charlottenlund klampenborg søborg bagsværd albertslund brøndby ishøj taastrup høje-taastrup
vallensbæk avedøre skovlunde måløv smørum værløse farum birkerød holte virum nærum lyngby hørsholm rungsted
humlebæk espergærde helsingør hillerød roskilde køge greve solrød ringsted næstved slagelse holbæk kalundborg
odense svendborg nyborg middelfart aarhus århus aalborg ålborg nørresundby esbjerg randers kolding horsens vejle
herning holstebro silkeborg viborg skive fredericia haderslev sønderborg aabenraa tønder hjørring frederikshavn
thisted ikast grenaa hobro nakskov nykøbing rønne
""".split())
_POSTCODE = re.compile(
    rf"(?<![\w.,-])(?P<code>[1-9][0-9]{{3}})\s+(?P<town>[{_UPPER}][{_LOWER}]+\.?(?:-[{_UPPER}][{_LOWER}]+)?)"
    rf"(?P<district>\s+{_DISTRICT_LETTERS}(?![\w]))?"
)
_NOT_TOWNS = frozenset({"januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
                        "oktober", "november", "december", "january", "february", "march", "may", "june",
                        "july", "october"})


def addresses(text: str) -> Iterator[tuple[int, int]]:
    """A street with a house number ("Nørrebrogade 12", "Amagerbrogade 4 st. tv.") and a postcode with its
    town ("2200 København N")."""
    for match in _STREET.finditer(text):
        yield match.start(), match.end()
    for match in _POSTCODE.finditer(text):
        town = match.group("town").lower()
        if town in _NOT_TOWNS:
            continue
        year_like = 1900 <= int(match.group("code")) <= 2099
        if town in TOWNS or match.group("district") or not year_like:
            yield match.start(), match.end()


# --- a person's full name ---------------------------------------------------------------------------------


@cache
def first_names() -> frozenset[str]:
    """The shipped list of common first names (storage/data/first_names_da.txt), lower-cased."""
    lines = NAMES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


# Danmarks Statistik's most common surnames (the top-20 list is all -sen but Møller) and a few more
SURNAMES = frozenset("""
nielsen jensen hansen pedersen andersen christensen larsen sørensen rasmussen jørgensen petersen madsen
kristensen olsen thomsen christiansen poulsen johansen møller mortensen knudsen jakobsen jacobsen olesen
frederiksen mikkelsen henriksen laursen lund schmidt eriksen holm kristiansen clausen simonsen svendsen
andreasen iversen jeppesen mogensen jespersen nissen lauridsen frandsen østergaard jepsen kjær carlsen
vestergaard jessen nørgaard dahl christoffersen skov søndergaard bertelsen bruun lassen bach gregersen friis
""".split())
# Capitalised words that follow a first name without being a surname: calendar words, places and orgs.
_NOT_SURNAMES = _NOT_TOWNS | frozenset("""
mandag tirsdag onsdag torsdag fredag lørdag søndag monday tuesday wednesday thursday friday saturday sunday
april august dec jan feb mar apr jun jul aug sep okt oct nov
station skole skolen gymnasium gymnasiet kirke kirken hospital hospitalet torv plads pladsen vej gade allé
park have haven bro broen kommune kommunen politi politiet kriminalforsorgen socialforvaltningen
sekretariatet regionspsykiatrien ssp vink ekp bif sof krim buf psych og and i in på at fra from til to
""".split())
_WORD = re.compile(rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)*|[{_UPPER}]{{2,}}|\w+|\S")  # punctuation alone
_NAME_OPTION = re.compile(r"(?<![\w])name=(?:\"[^\"]*\"?|\S+)", re.IGNORECASE)
_ORG_ENDINGS = ("forvaltningen", "forsorgen", "afdelingen", "centret", "centeret", "skolen", "huset", "iet",
                "ningen", "ionen")


def _capitalised(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and word[1:].replace("-", "").islower()


def _surname_like(word: str) -> bool:
    low = word.lower()
    return (_capitalised(word) and low not in _NOT_SURNAMES and not low.endswith(_ORG_ENDINGS))


def _sen(word: str) -> bool:
    low = word.lower()
    return low in SURNAMES or (len(low) >= 6 and low.endswith(("sen", "sson")) and _capitalised(word))


def _is_first_name(word: str) -> bool:
    names = first_names()
    return word.lower() in names or word.split("-", 1)[0].lower() in names


def full_names(text: str) -> Iterator[tuple[int, int]]:
    """A known first name followed by a capitalised word ("Ahmad Hansen", "Mette Marie Jensen"), or any
    capitalised word followed by a common or "-sen" surname ("Familien Hansen"). The value of a `name=`
    option (a member of the unit: `unit add @mette name="Mette Jensen"`) is not a person the unit is about."""
    text = _NAME_OPTION.sub(lambda m: " " * len(m.group()), text)
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]
    i = 0
    while i < len(words) - 1:
        word, start, _ = words[i]
        nxt, nstart, _ = words[i + 1]
        adjacent = text[words[i][2]:nstart].strip() == ""
        known = _is_first_name(word) and _surname_like(nxt)
        sen = _capitalised(word) and word.lower() not in _NOT_SURNAMES and _sen(nxt)
        if adjacent and (known or sen):
            j = i + 1  # the name runs on while capitalised words follow ("Anne Marie Holm Nielsen")
            while j + 1 < len(words) and text[words[j][2]:words[j + 1][1]].strip() == "" \
                    and _surname_like(words[j + 1][0]):
                j += 1
            yield start, words[j][2]
            i = j + 1
            continue
        i += 1
