// Executes the target templates of a rendered ExternalSecret with Go's text/template, the engine
// of external-secrets' template v2, on stand-in values of its data keys (.ci/validate-pgpool.sh).
module somagen.invalid/ci/esotemplate

go 1.22
