module github.com/ssotkit/ssot/examples

go 1.26.0

replace github.com/ssotkit/ssot => ../

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/coder/websocket v1.8.15
	github.com/google/go-cmp v0.7.0
	github.com/nats-io/nats-server/v2 v2.15.2
	github.com/prometheus/client_golang v1.25.0
	github.com/ssotkit/ssot v0.0.0-00010101000000-000000000000
	github.com/ssotkit/ssot/contrib/gobwasws v0.0.0-00010101000000-000000000000
	github.com/ssotkit/ssot/contrib/jwtauth v0.0.0-00010101000000-000000000000
	github.com/ssotkit/ssot/contrib/natsbroker v0.0.0-00010101000000-000000000000
	github.com/ssotkit/ssot/contrib/oidcauth v0.0.0-00010101000000-000000000000
	github.com/ssotkit/ssot/contrib/prommetrics v0.0.0-00010101000000-000000000000
	github.com/ssotkit/ssot/contrib/redisbroker v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require (
	github.com/antithesishq/antithesis-sdk-go v0.8.0-default-no-op // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/ws v1.5.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/google/go-tpm v0.9.8 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/minio/highwayhash v1.0.4 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/nats-io/jwt/v2 v2.8.2 // indirect
	github.com/nats-io/nats.go v1.55.0 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	github.com/ssotkit/ssot/client v0.0.0-00010101000000-000000000000
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/time v0.16.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/ssotkit/ssot/contrib/gobwasws => ../contrib/gobwasws

replace github.com/ssotkit/ssot/contrib/jwtauth => ../contrib/jwtauth

replace github.com/ssotkit/ssot/contrib/oidcauth => ../contrib/oidcauth

replace github.com/ssotkit/ssot/contrib/natsbroker => ../contrib/natsbroker

replace github.com/ssotkit/ssot/contrib/prommetrics => ../contrib/prommetrics

replace github.com/ssotkit/ssot/contrib/redisbroker => ../contrib/redisbroker

replace github.com/ssotkit/ssot/client => ../client
