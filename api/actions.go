package api

// action is one API action.
type action struct {
	run func(*Server, *call) (resp, *Error)
	// idempotent actions honour ClientToken.
	idempotent bool
}

// actions are the supported cas 2020-06-30 actions.
var actions = map[string]action{
	"DescribeClientCertificateStatus":                {run: (*Server).describeStatus},
	"DescribeClientCertificateStatusForSerialNumber": {run: (*Server).describeStatusForSerial},

	"CreateRootCACertificate":                  {run: (*Server).createRoot, idempotent: true},
	"CreateSubCACertificate":                   {run: (*Server).createSub, idempotent: true},
	"CreateClientCertificate":                  {run: (*Server).createClient, idempotent: true},
	"CreateServerCertificate":                  {run: (*Server).createServer, idempotent: true},
	"CreateClientCertificateWithCsr":           {run: (*Server).createClientWithCSR, idempotent: true},
	"CreateServerCertificateWithCsr":           {run: (*Server).createServerWithCSR, idempotent: true},
	"CreateRevokeClientCertificate":            {run: (*Server).revoke},
	"DeleteClientCertificate":                  {run: (*Server).deleteCert},
	"UpdateCACertificateStatus":                {run: (*Server).updateCAStatus, idempotent: true},
	"UpdatePcaCertificate":                     {run: (*Server).updateCA, idempotent: true},
	"DescribeCACertificate":                    {run: (*Server).describeCA},
	"DescribeCACertificateList":                {run: (*Server).describeCAList},
	"DescribeCACertificateCount":               {run: (*Server).describeCACount},
	"ListPcaCaCertificate":                     {run: (*Server).listPcaCA},
	"GetCAInstanceStatus":                      {run: (*Server).caInstanceStatus},
	"GetCaInstanceCrlAddress":                  {run: (*Server).crlAddress},
	"DescribeClientCertificate":                {run: (*Server).describeCert},
	"DescribeClientCertificateForSerialNumber": {run: (*Server).describeCertForSerial},
	"DescribeCertificatePrivateKey":            {run: (*Server).privateKey},
	"ListClientCertificate":                    {run: (*Server).listClientCertificate},
	"ListCert":                                 {run: (*Server).listCert},
	"ListRevokeCertificate":                    {run: (*Server).listRevoked},
	"TagResources":                             {run: (*Server).tagResources},
	"UntagResources":                           {run: (*Server).untagResources},
	"ListTagResources":                         {run: (*Server).listTagResources},
}

// unsupported are cas actions certstatus answers with
// InvalidAction.NotFound, and why.
var unsupported = map[string]string{
	"UploadPcaCertToCas":                      "synchronising to Alibaba's SSL Certificates Service is Alibaba-only",
	"AssignCertificateCount":                  "certificate quotas are Alibaba billing",
	"ListAllEndEntityInstance":                "end-entity instances are Alibaba billing",
	"MoveResourceGroup":                       "resource groups are Alibaba account management; ResourceGroupId is stored as given",
	"CreateExternalCACertificate":             "external (customer-held-key) CA instances are an Alibaba product",
	"DescribePcaAndExternalCACertificateList": "external CA instances are an Alibaba product; use DescribeCACertificateList",
	"ListCACertificateLog":                    "the CA operation log comes with the audit trail",
	"CreateCustomCertificate":                 "it lets the caller choose serial numbers, key usages and extended key usages outside the CLIENT/SERVER profiles; use CreateClientCertificateWithCsr or CreateServerCertificateWithCsr",
}
