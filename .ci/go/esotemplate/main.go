// esotemplate EXTERNALSECRET.json VALUES.json: prints, as JSON, the Secret data that
// external-secrets' template engine v2 makes of spec.target.template.data, with VALUES (a map
// of the data entries' secretKey to a stand-in value) as the template's dot. A key the
// template names that VALUES lacks is an error, as it is for external-secrets.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
)

type externalSecret struct {
	Spec struct {
		Target struct {
			Template struct {
				EngineVersion string            `json:"engineVersion"`
				Data          map[string]string `json:"data"`
			} `json:"template"`
		} `json:"target"`
		Data []struct {
			SecretKey string `json:"secretKey"`
		} `json:"data"`
	} `json:"spec"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "esotemplate:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: esotemplate EXTERNALSECRET.json VALUES.json")
	}
	var es externalSecret
	if err := readJSON(args[0], &es); err != nil {
		return err
	}
	var values map[string]string
	if err := readJSON(args[1], &values); err != nil {
		return err
	}
	if v := es.Spec.Target.Template.EngineVersion; v != "v2" {
		return fmt.Errorf("engineVersion %q, want v2", v)
	}
	for _, d := range es.Spec.Data {
		if _, ok := values[d.SecretKey]; !ok {
			return fmt.Errorf("no stand-in value for data key %q", d.SecretKey)
		}
	}
	out := map[string]string{}
	for key, text := range es.Spec.Target.Template.Data {
		tpl, err := template.New(key).Option("missingkey=error").Parse(text)
		if err != nil {
			return fmt.Errorf("template %s: %w", key, err)
		}
		var b strings.Builder
		if err := tpl.Execute(&b, values); err != nil {
			return fmt.Errorf("template %s: %w", key, err)
		}
		out[key] = b.String()
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
