"""信易贷: credit-based financing for small firms — financial institutions and their credit
products, enterprises' financing demands, their authorisations (授权书) to see their credit
profile, matching by rules that are data, logged views, loan outcomes and statistics."""
