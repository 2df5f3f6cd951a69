"""--language resources (seqtool.summarize.languages): splitter, stop words and stemmer per language."""

import pytest

from seqtool.core.errors import UsageError
from seqtool.summarize import load_stopwords
from seqtool.summarize.languages import describe, language, supported_languages
from seqtool.summarize.sentences import split_paragraph


def test_supported_languages_are_the_bundled_punkt_models():
    import punkt

    assert supported_languages() == tuple(punkt.available_languages())
    assert {"english", "german", "french", "russian", "malayalam"} <= set(supported_languages())
    assert len(describe()) == len(supported_languages())


def test_english_has_all_three_and_its_stop_words_are_the_shipped_list():
    en = language("english")
    assert (en.name, en.code, en.stopwords_file, en.stemmer) == ("english", "en", "stopwords-en.txt", "english")
    assert en.stopwords() == load_stopwords(None) and "the" in en.stopwords()
    assert en.stem_map(["profits", "running", "Москвы"]) == {"profits": "profit", "running": "run",
                                                             "Москвы": "Москвы"}
    assert language("english_web").stemmer == "english" and language("english_web").stopwords_file


def test_other_languages_split_and_stem_but_ship_no_stop_words():
    de = language("German")
    assert (de.name, de.code, de.stopwords_file, de.stemmer) == ("german", "de", None, "german")
    assert de.stopwords() == frozenset()
    assert de.stem_map(["häuser", "laufen"]) == {"häuser": "haus", "laufen": "lauf"}
    assert de.punkt_parameters() is not None
    # German Punkt knows ordinal dates ("am 3. Mai"); English Punkt breaks after the "3.".
    text = "Er kam am 3. Mai an. Sie blieb."
    assert split_paragraph(text, de.name) == ["Er kam am 3. Mai an.", "Sie blieb."]
    assert split_paragraph(text, "english") == ["Er kam am 3.", "Mai an.", "Sie blieb."]
    assert language("ru").stem_map(["москвы"]) == {"москвы": "москв"}


def test_languages_without_a_stemmer_map_words_to_themselves():
    for name in ("malayalam", "slovene"):
        lang = language(name)
        assert lang.stemmer is None and lang.stem_map(["words", "kept"]) == {"words": "words", "kept": "kept"}


def test_iso_codes_and_case_are_accepted():
    assert language("de") == language("GERMAN") == language(" german ")
    assert language("en").name == "english" and language("pt").name == "portuguese"


def test_an_unsupported_language_is_a_usage_error_listing_the_supported_ones():
    with pytest.raises(UsageError) as info:
        language("klingon")
    message = str(info.value)
    assert message.startswith("unknown --language 'klingon': no sentence splitter ships for it (supported: ")
    assert "german (de)" in message and "turkish (tr)" in message and "\n" not in message
    with pytest.raises(UsageError, match="'ja'"):
        language("ja")  # Japanese: no Punkt model ships
