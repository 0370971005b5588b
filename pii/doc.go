// Package pii keeps customer personal data off the immutable log by crypto-shredding.
//
// A Shopify payload is split in two (SplitShopify): a clean payload that may be published as it
// is, and the personal parts cut out of it (names, emails, phones, addresses, IPs, free-text
// notes), addressed by JSON pointers. The personal parts are sealed (Sealer) with AES-256-GCM
// under a data key that belongs to one subject — a customer, or a guest order — and that lives
// outside the log, in PostgreSQL (Keystore), itself wrapped under a key-encryption key (KEK).
// Destroying a subject's data key (Keystore.Shred on customers/redact, Keystore.ShredShop on
// shop/redact) makes every copy of its sealed data unreadable at once: on every topic, in every
// Iceberg table, in every partner's consumer. Whoever holds a live key puts the exact payload
// back together (Sealer.Open, then JoinShopify).
//
// README.md in this directory describes what is sealed, where the keys live and what shredding
// does and does not guarantee.
package pii
