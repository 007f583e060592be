package main

// Export is a named orders export.
type Export struct {
	Name string
	CSV  string
}

// SampleExports returns the demo's two exports. Their rows need between
// none and three fixes; two rows cannot be cleaned.
func SampleExports() []Export {
	return []Export{
		{Name: "orders-monday.csv", CSV: Header + `
A-1001,ana@shop.example,DE,19.90,EUR
A-1002, Ben@Shop.example ,germany,"12,50",EUR
A-1003,chloe@shop.example,France,€7.00,
A-1004,dev@shop.example,US,$120.00,
A-1005,emi@shop.example,jp,1500,JPY
A-1006,finn@shop.example,Atlantis,10.00,EUR
A-1007,gia@shop.example,GB,£45.10,GBP
A-1008,HUGO@SHOP.EXAMPLE,Deutschland,"1.234,50",EUR
A-1009,ivy@shop.example,US,n/a,USD
A-1010,jo@shop.example,Brasil,89.90,BRL
A-1011,kai@shop.example,DE,5,EUR
A-1012,lea@shop.example,fr,"3,20",eur
`},
		{Name: "orders-tuesday.csv", CSV: Header + `
B-2001,max@shop.example,DE,49.00,EUR
B-2002,nia@shop.example,United States,$15.00,
B-2003,oli@shop.example,FR,22.00,EUR
B-2004,pia@shop.example,Japan,¥3000,
B-2005,quin@shop.example,GB,9.99,GBP
B-2006, Ray@Shop.example,DE,"0,99",EUR
B-2007,sam@shop.example,BR,15.00,BRL
B-2008,tess@shop.example,us,42.00,usd
`},
	}
}
