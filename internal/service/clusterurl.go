package service

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vigil-cctv/vigil/internal/cluster"
	"github.com/vigil-cctv/vigil/internal/config"
	"github.com/vigil-cctv/vigil/internal/secrets"
)

// clusterURLContext binds a camera URL sealed in the config bucket to the
// camera's id, so a sealed URL cannot be moved to another camera's entry.
func clusterURLContext(id string) string { return "cluster-camera:" + id }

// sealClusterURL encrypts a camera URL for the config bucket: the bucket
// is readable by every NATS client of the cluster account, and a URL
// carries the camera's password.
func (s *Service) sealClusterURL(id, url string) (string, error) {
	if s.secrets == nil {
		return url, nil
	}
	return s.secrets.Seal(url, clusterURLContext(id))
}

// clusterSpec decodes a camera entry of the config bucket and opens its
// URL. A node whose keyring lacks the sealing key gets an error that says
// what to do, never the sealed value.
func (s *Service) clusterSpec(id string, raw []byte) (config.Camera, error) {
	var cc cluster.CameraConfig
	var spec config.Camera
	if err := json.Unmarshal(raw, &cc); err != nil {
		return spec, fmt.Errorf("camera config: %w", err)
	}
	if err := json.Unmarshal(cc.Spec, &spec); err != nil {
		return spec, fmt.Errorf("camera spec: %w", err)
	}
	spec.ID = id
	switch {
	case s.secrets != nil:
		url, err := s.secrets.Open(spec.URL, clusterURLContext(id))
		if err != nil {
			return spec, fmt.Errorf("camera %s: URL from the config bucket: %w (every node needs the api node's secret key: %s or %s)",
				id, err, secrets.EnvKey, secrets.EnvKeyFile)
		}
		spec.URL = url
	case secrets.IsSealed(spec.URL):
		return spec, errors.New("camera " + id + ": the URL in the config bucket is encrypted and this node has no secret key")
	}
	return spec, nil
}
