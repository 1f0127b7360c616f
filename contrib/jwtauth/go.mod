module github.com/ssotkit/ssot/contrib/jwtauth

go 1.26.0

replace github.com/ssotkit/ssot => ../../

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/google/go-cmp v0.7.0
	github.com/ssotkit/ssot v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)
