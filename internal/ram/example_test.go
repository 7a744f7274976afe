package ram_test

import (
	"fmt"

	"github.com/certstatus/certstatus/internal/ram"
)

func ExamplePolicy_Evaluate() {
	p, err := ram.Parse(`{"Version":"1","Statement":[
		{"Effect":"Allow","Action":["yundun-cert:Describe*","yundun-cert:List*"],"Resource":"*"},
		{"Effect":"Deny","Action":"yundun-cert:Delete*","Resource":"*"}]}`)
	if err != nil {
		panic(err)
	}
	for _, action := range []string{
		"yundun-cert:DescribeClientCertificateStatus",
		"yundun-cert:DeleteClientCertificate",
		"yundun-cert:CreateRevokeClientCertificate",
	} {
		d := p.Evaluate(ram.Request{Action: action})
		fmt.Println(action, d.Allowed, d.NoPermissionType(), d.Statement)
	}
	// Output:
	// yundun-cert:DescribeClientCertificateStatus true  0
	// yundun-cert:DeleteClientCertificate false ExplicitDeny 1
	// yundun-cert:CreateRevokeClientCertificate false ImplicitDeny -1
}
