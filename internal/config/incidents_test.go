package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const withIncidents = `version: 1
incidents:
  protocols: configs/protocols.yaml
  destinations:
    - name: police-cad
      type: webhook
      url: https://cad.example/hooks/vigil?token=tok-SECRET
      secret_env: VIGIL_TEST_CAD_SECRET
    - name: road-crew-cap
      type: webhook
      format: cap
      url: https://roads.example/cap
      cap_sender: vigil@city.example
    - name: city-mqtt
      type: mqtt
      url: mqtt://broker.example:1883
      username: vigil
      password_env: VIGIL_TEST_MQTT_PASSWORD
`

func TestIncidentsSection(t *testing.T) {
	c, err := Parse([]byte(withIncidents), "v.yaml")
	require.NoError(t, err)
	in := c.Incidents
	require.Equal(t, Duration(5*time.Second), in.Tick)
	require.Equal(t, 40, in.Delivery.MaxAttempts)
	require.Equal(t, []string{"police-cad", "road-crew-cap", "city-mqtt"}, in.DestinationNames())
	env := map[string]string{"VIGIL_TEST_CAD_SECRET": "hmac-key", "VIGIL_TEST_MQTT_PASSWORD": "pw"}
	ds, err := in.Deliver(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, []byte("hmac-key"), ds[0].Secret)
	require.Equal(t, "json", ds[0].Format)
	require.Equal(t, "cap", ds[1].Format)
	require.Equal(t, []byte("pw"), ds[2].Password)
	require.Equal(t, 10*time.Second, ds[2].Timeout)

	_, err = in.Deliver(func(string) string { return "" })
	require.ErrorContains(t, err, "VIGIL_TEST_CAD_SECRET is not set")
}

func TestIncidentsErrors(t *testing.T) {
	bad := `version: 1
incidents:
  tick: 1h
  destinations:
    - name: a
      type: pager
      url: x
    - name: a
      type: webhook
      url: ftp://u:pw-SECRET@h/x
      format: xml
    - name: m
      type: mqtt
      url: mqtt://h:1883
      secret_env: X
`
	_, err := Parse([]byte(bad), "v.yaml")
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		"v.yaml:3:9: incidents.tick: must be 100ms to 1m",
		`v.yaml:6:13: incidents.destinations[0].type: want webhook or mqtt, got "pager"`,
		`v.yaml:8:13: incidents.destinations[1].name: duplicate destination "a"`,
		"incidents.destinations[1].url: a webhook destination needs a http:// URL",
		`incidents.destinations[1].format: want json or cap, got "xml"`,
		"incidents.destinations[2].type: format, secret_env and cap_sender are for webhooks",
	} {
		require.Contains(t, msg, want)
	}
	require.NotContains(t, msg, "pw-SECRET")
	require.Equal(t, 6, strings.Count(msg, "\n")+1, msg)
}
