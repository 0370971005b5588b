// Package shopifyapi is storeline's client of the Shopify Admin GraphQL API: one Client per
// shop, with the shop's access token and a pinned API version.
//
// It owns the parts of the protocol every caller would otherwise get subtly wrong:
//
//   - cost-based throttling: a local model of the shop's leaky bucket, fed by
//     extensions.cost.throttleStatus on every response, makes a request wait for the points it
//     needs instead of being refused; a THROTTLED answer (HTTP 200 with an error code, or 429)
//     waits for the bucket to refill and is retried without counting as a failure;
//   - retries with exponential backoff and full jitter on 5xx, network errors and timeouts,
//     bounded by Config.MaxRetries; other 4xx are final;
//   - bulk operations (bulk_operation.go): start, poll, cancel, wait for a terminal status, and
//     the one question the sync must never get wrong — is this result complete?
//   - bulk results (result_reader.go): the JSONL file streamed line by line in constant memory,
//     resumable from a byte offset after a crash or a dropped connection.
//
// Time is injected (Config.Clock) so tests can check every wait without sleeping.
package shopifyapi
