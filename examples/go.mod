module github.com/ssotkit/ssot/examples

go 1.26.0

replace github.com/ssotkit/ssot => ../

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/coder/websocket v1.8.15
	github.com/google/go-cmp v0.7.0
	github.com/ssotkit/ssot v0.0.0-00010101000000-000000000000
	github.com/ssotkit/ssot/contrib/gobwasws v0.0.0-00010101000000-000000000000
	github.com/ssotkit/ssot/contrib/jwtauth v0.0.0-00010101000000-000000000000
	github.com/ssotkit/ssot/contrib/oidcauth v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.9 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/ws v1.5.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
)

replace github.com/ssotkit/ssot/contrib/gobwasws => ../contrib/gobwasws

replace github.com/ssotkit/ssot/contrib/jwtauth => ../contrib/jwtauth

replace github.com/ssotkit/ssot/contrib/oidcauth => ../contrib/oidcauth
