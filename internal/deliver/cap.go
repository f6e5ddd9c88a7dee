package deliver

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// CAPNamespace is the XML namespace of OASIS CAP 1.2.
const CAPNamespace = "urn:oasis:names:tc:emergency:cap:1.2"

// CAPAlert is a CAP 1.2 alert message, with the elements Vigil fills in.
// Field order follows the schema's sequence.
type CAPAlert struct {
	XMLName     xml.Name  `xml:"urn:oasis:names:tc:emergency:cap:1.2 alert"`
	Identifier  string    `xml:"identifier"`
	Sender      string    `xml:"sender"`
	Sent        string    `xml:"sent"`
	Status      string    `xml:"status"`
	MsgType     string    `xml:"msgType"`
	Source      string    `xml:"source,omitempty"`
	Scope       string    `xml:"scope"`
	Restriction string    `xml:"restriction,omitempty"`
	References  string    `xml:"references,omitempty"`
	Info        []CAPInfo `xml:"info"`
}

// CAPInfo is one info block.
type CAPInfo struct {
	Language     string         `xml:"language,omitempty"`
	Category     []string       `xml:"category"`
	Event        string         `xml:"event"`
	ResponseType []string       `xml:"responseType,omitempty"`
	Urgency      string         `xml:"urgency"`
	Severity     string         `xml:"severity"`
	Certainty    string         `xml:"certainty"`
	SenderName   string         `xml:"senderName,omitempty"`
	Headline     string         `xml:"headline,omitempty"`
	Description  string         `xml:"description,omitempty"`
	Parameter    []CAPParameter `xml:"parameter,omitempty"`
	Area         []CAPArea      `xml:"area"`
}

// CAPParameter is a name/value pair.
type CAPParameter struct {
	ValueName string `xml:"valueName"`
	Value     string `xml:"value"`
}

// CAPArea names where; cameras have no geocode yet, so areaDesc says
// which camera and which place in its view.
type CAPArea struct {
	AreaDesc string `xml:"areaDesc"`
}

// CAP 1.2 enumerations (OASIS CAP 1.2, section 3.2).
var (
	CAPStatuses    = []string{"Actual", "Exercise", "System", "Test", "Draft"}
	CAPMsgTypes    = []string{"Alert", "Update", "Cancel", "Ack", "Error"}
	CAPScopes      = []string{"Public", "Restricted", "Private"}
	CAPCategories  = []string{"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"}
	CAPUrgencies   = []string{"Immediate", "Expected", "Future", "Past", "Unknown"}
	CAPSeverities  = []string{"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
	CAPCertainties = []string{"Observed", "Likely", "Possible", "Unlikely", "Unknown"}
)

// capTime is CAP's dateTime: no fractional seconds, explicit offset.
func capTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-07:00") }

// capToken keeps an identifier free of the characters CAP forbids in
// identifier and sender (space, comma, less-than, ampersand).
func capToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == ',' || r == '<' || r == '&' || r < ' ' {
			return '_'
		}
		return r
	}, s)
}

// CAP renders a notice as a CAP 1.2 alert. An incident that opens is an
// Alert; later notices about it are Updates (a false alarm a Cancel) that
// reference the opening message, so a receiver can thread them.
func CAP(n Notice, sender string) ([]byte, error) {
	inc := n.Incident
	if inc == nil {
		return nil, fmt.Errorf("CAP: notice %s is not about an incident", n.ID)
	}
	a := CAPAlert{
		Identifier: capToken(n.ID), Sender: capToken(sender), Sent: capTime(n.Sent),
		Status: "Actual", MsgType: "Alert", Source: "Vigil camera " + n.Camera,
		Scope: "Restricted", Restriction: "Control room and dispatched units",
	}
	if n.Type != NoticeOpened {
		a.MsgType = "Update"
		if inc.State == "false_alarm" {
			a.MsgType = "Cancel"
		}
		a.References = fmt.Sprintf("%s,%s,%s", capToken(sender), capToken(OpenedID(inc.ID)), capTime(inc.Opened))
	}
	where := "camera " + n.Camera
	if inc.Place != "" {
		where += ", " + inc.Place
	}
	info := CAPInfo{
		Language: "en", Category: []string{capCategory(inc.Rule, inc.Unit)},
		Event:   strings.ReplaceAll(inc.Rule, "_", " "),
		Urgency: capUrgency(inc.Priority), Severity: capSeverity(inc.Priority), Certainty: capCertainty(inc.Rule),
		SenderName: "Vigil", Headline: headline(inc, where), Description: inc.Summary,
		Parameter: []CAPParameter{{"incident", fmt.Sprint(inc.ID)}, {"state", inc.State},
			{"priority", inc.Priority}, {"events", fmt.Sprint(inc.Count)}},
		Area: []CAPArea{{AreaDesc: where}},
	}
	if inc.Unit != "" {
		info.Parameter = append(info.Parameter, CAPParameter{"unit_type", inc.Unit})
	}
	if inc.UnitID != "" {
		info.Parameter = append(info.Parameter, CAPParameter{"unit_id", inc.UnitID})
	}
	a.Info = []CAPInfo{info}
	out, err := xml.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("CAP: %w", err)
	}
	return append([]byte(xml.Header), out...), nil
}

// OpenedID is the message id of the notice that opened an incident.
func OpenedID(incident int64) string { return fmt.Sprintf("incident-%d-opened", incident) }

func headline(inc *IncidentInfo, where string) string {
	h := fmt.Sprintf("%s: %s at %s", strings.ToUpper(inc.Priority), strings.ReplaceAll(inc.Rule, "_", " "), where)
	if inc.State != "new" {
		h += " (" + strings.ReplaceAll(inc.State, "_", " ") + ")"
	}
	return h
}

func capCategory(rule, unit string) string {
	switch unit {
	case "fire":
		return "Fire"
	case "medical":
		return "Health"
	}
	switch rule {
	case "wrong_way", "stopped_vehicle", "speeding", "jaywalking", "vehicle_in_pedestrian_zone":
		return "Transport"
	case "intrusion", "loitering", "anomaly":
		return "Security"
	}
	return "Safety"
}

func capUrgency(priority string) string {
	switch priority {
	case "critical", "high":
		return "Immediate"
	case "medium":
		return "Expected"
	case "low":
		return "Future"
	}
	return "Unknown"
}

func capSeverity(priority string) string {
	switch priority {
	case "critical":
		return "Extreme"
	case "high":
		return "Severe"
	case "medium":
		return "Moderate"
	case "low":
		return "Minor"
	}
	return "Unknown"
}

// capCertainty: a rule fired on what the camera measured; a learned
// anomaly is a statistical judgement.
func capCertainty(rule string) string {
	if rule == "anomaly" {
		return "Likely"
	}
	return "Observed"
}
