module github.com/ssotkit/ssot/contrib/nbiows

go 1.26.0

replace github.com/ssotkit/ssot => ../../

require (
	github.com/lesismal/nbio v1.6.8
	github.com/ssotkit/ssot v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require github.com/coder/websocket v1.8.15
