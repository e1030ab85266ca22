"""Hosted video models: one shared layer and one short module per provider.

The shared layer: `http` (one retry policy: exponential backoff with jitter on 429/5xx/network errors,
honouring Retry-After; a per-provider rate limit), `ledger` (one record per job in the model's workdir, so a
killed run polls and downloads what it already paid for), `prices` (the price table and the user's price
file), `errors` (the failure kinds), `operational` (the settings that are not part of a job), `media` (the first frame as the
provider takes it, and uploaders) and `base` (the create / poll / download flow every provider shares).
The providers: `gemini` (Veo), `kling`, `runway`, `luma`, `fal`, `wavespeed`, `openai_video` (Sora 2 and any
server speaking the OpenAI Videos API). The ids are registered in `vmevalkit.models.catalog.hosted`."""
