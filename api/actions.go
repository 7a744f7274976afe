package api

// action is one API action.
type action struct {
	run func(*Server, *call) (resp, *Error)
	// idempotent actions honour ClientToken.
	idempotent bool
	// changes marks the actions that change state (or, for the private-key
	// export, append to the audit trail): their nonces are also kept in the
	// store until they expire, so that a replay is refused after a restart.
	changes bool
}

// actions are the supported cas 2020-06-30 actions.
var actions = map[string]action{
	"DescribeClientCertificateStatus":                {run: (*Server).describeStatus},
	"DescribeClientCertificateStatusForSerialNumber": {run: (*Server).describeStatusForSerial},

	"CreateRootCACertificate":                  {run: (*Server).createRoot, idempotent: true, changes: true},
	"CreateSubCACertificate":                   {run: (*Server).createSub, idempotent: true, changes: true},
	"CreateClientCertificate":                  {run: (*Server).createClient, idempotent: true, changes: true},
	"CreateServerCertificate":                  {run: (*Server).createServer, idempotent: true, changes: true},
	"CreateClientCertificateWithCsr":           {run: (*Server).createClientWithCSR, idempotent: true, changes: true},
	"CreateServerCertificateWithCsr":           {run: (*Server).createServerWithCSR, idempotent: true, changes: true},
	"CreateRevokeClientCertificate":            {run: (*Server).revoke, changes: true},
	"DeleteClientCertificate":                  {run: (*Server).deleteCert, changes: true},
	"UpdateCACertificateStatus":                {run: (*Server).updateCAStatus, idempotent: true, changes: true},
	"UpdatePcaCertificate":                     {run: (*Server).updateCA, idempotent: true, changes: true},
	"DescribeCACertificate":                    {run: (*Server).describeCA},
	"DescribeCACertificateList":                {run: (*Server).describeCAList},
	"DescribeCACertificateCount":               {run: (*Server).describeCACount},
	"ListPcaCaCertificate":                     {run: (*Server).listPcaCA},
	"GetCAInstanceStatus":                      {run: (*Server).caInstanceStatus},
	"GetCaInstanceCrlAddress":                  {run: (*Server).crlAddress},
	"DescribeClientCertificate":                {run: (*Server).describeCert},
	"DescribeClientCertificateForSerialNumber": {run: (*Server).describeCertForSerial},
	"DescribeCertificatePrivateKey":            {run: (*Server).privateKey, changes: true},
	"ListClientCertificate":                    {run: (*Server).listClientCertificate},
	"ListCert":                                 {run: (*Server).listCert},
	"ListRevokeCertificate":                    {run: (*Server).listRevoked},
	"TagResources":                             {run: (*Server).tagResources, changes: true},
	"UntagResources":                           {run: (*Server).untagResources, changes: true},
	"ListTagResources":                         {run: (*Server).listTagResources},
	"ListCACertificateLog":                     {run: (*Server).listCALog},
	"MoveResourceGroup":                        {run: (*Server).moveResourceGroup, changes: true},
	"DescribePcaAndExternalCACertificateList":  {run: (*Server).describePcaExt},
	"CreateCustomCertificate":                  {run: (*Server).createCustom, changes: true},
}

// unsupported are cas actions certstatus answers with
// InvalidAction.NotFound, and why.
var unsupported = map[string]string{
	"UploadPcaCertToCas":          "synchronising to Alibaba's SSL Certificates Service is Alibaba-only",
	"AssignCertificateCount":      "certificate quotas are Alibaba billing",
	"ListAllEndEntityInstance":    "end-entity instances are Alibaba billing",
	"CreateExternalCACertificate": "external (customer-held-key) CA instances are an Alibaba product",
}
