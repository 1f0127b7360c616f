module github.com/ssotkit/ssot/bench

go 1.26.0

replace github.com/ssotkit/ssot => ../

require (
	github.com/caarlos0/env/v11 v11.4.2 // indirect
	github.com/coder/websocket v1.8.15 // indirect
	github.com/go-chi/chi/v5 v5.5.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/justinas/alice v1.2.0 // indirect
	github.com/looplab/fsm v1.0.3 // indirect
	github.com/olahol/melody v1.1.4 // indirect
	github.com/qmuntal/stateless v1.7.2 // indirect
	github.com/sethvargo/go-envconfig v1.4.3 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	github.com/ssotkit/ssot v0.0.0-00010101000000-000000000000 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
)
