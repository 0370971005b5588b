package shopifysim

// Word lists the generator draws from. Emails use example.com/.net/.org and phones the
// fictional 555-01xx range, so no real person is named; they still look like personal data to
// anything that must seal it.

var firstNames = []string{
	"Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sophia", "Lucas", "Isabella", "Ethan",
	"Mia", "Amelia", "Hiroshi", "Priya", "Chen", "Fatima", "Jonas", "Ingrid", "Diego", "Zoe",
	"Aarav", "Leila", "Kwame", "Siobhan", "Mikhail", "Yara", "Tomás", "Hannah", "Omar", "Grace",
	"Janeth", "Walter", "Maximilian", "Chloé", "Björn", "Nadia", "Raj", "Elena", "Malik", "Ruth",
}

var lastNames = []string{
	"Smith", "Johnson", "Garcia", "Nguyen", "Müller", "Okafor", "Kowalski", "Tanaka", "Silva",
	"O'Brien", "Andersson", "Haddad", "Rossi", "Dubois", "Patel", "Kim", "Novak", "Fischer",
	"Hernández", "Walker", "Doerflinger", "Whitfield", "Mustermann", "Lindqvist", "Mbeki",
	"Costa", "Yamamoto", "Brennan", "Ivanova", "Schultz",
}

var emailDomains = []string{"example.com", "example.net", "example.org"}

var streets = []string{
	"Maple Avenue", "Oak Street", "Cedar Lane", "Elm Road", "Pine Court", "Lakeview Drive",
	"Sunset Boulevard", "Hillcrest Way", "River Road", "Kastanienallee", "High Street",
	"Rue des Lilas", "Birch Terrace", "Harbor View", "Mill Lane",
}

type place struct {
	city, province, provinceCode, country, countryCode, zip, phonePrefix string
	lat, lng                                                             float64
}

var places = []place{
	{"Austin", "Texas", "TX", "United States", "US", "78701", "+1512", 30.2672, -97.7431},
	{"Portland", "Oregon", "OR", "United States", "US", "97205", "+1503", 45.5152, -122.6784},
	{"Brooklyn", "New York", "NY", "United States", "US", "11201", "+1718", 40.6943, -73.9903},
	{"Denver", "Colorado", "CO", "United States", "US", "80202", "+1303", 39.7392, -104.9903},
	{"Chicago", "Illinois", "IL", "United States", "US", "60614", "+1312", 41.9227, -87.6533},
	{"Oakland", "California", "CA", "United States", "US", "94612", "+1510", 37.8044, -122.2712},
	{"Asheville", "North Carolina", "NC", "United States", "US", "28801", "+1828", 35.5951, -82.5515},
	{"Madison", "Wisconsin", "WI", "United States", "US", "53703", "+1608", 43.0731, -89.4012},
	{"Toronto", "Ontario", "ON", "Canada", "CA", "M5V 2T6", "+1416", 43.6426, -79.3871},
	{"Vancouver", "British Columbia", "BC", "Canada", "CA", "V6B 1A1", "+1604", 49.2827, -123.1207},
	{"Berlin", "Berlin", "BE", "Germany", "DE", "10435", "+4930", 52.5387, 13.4118},
	{"Manchester", "England", "ENG", "United Kingdom", "GB", "M1 1AE", "+44161", 53.4808, -2.2426},
}

var companies = []string{"", "", "", "", "Northwind Traders", "Acme Studio", "Bluebird Design", "Hale & Co"}

var userAgents = []string{
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
}

var acceptLanguages = []string{"en-US,en;q=0.9", "en-CA,en;q=0.8,fr;q=0.6", "de-DE,de;q=0.9,en;q=0.5", "en-GB,en;q=0.9"}

var landingSites = []string{
	"/", "/collections/new-arrivals", "/products/%s?utm_source=newsletter&utm_medium=email&email=%s",
	"/products/%s?fbclid=IwAR2x9k3LQ", "/?gclid=Cj0KCQiA7",
}

var referringSites = []string{"", "https://www.google.com/", "https://www.instagram.com/", "https://www.search.example/search?q=%s+%s"}

var orderNotes = []string{"", "", "", "", "Please leave the parcel with the neighbour at no. 5", "Gift - no invoice in the box please", "Call %s before delivery"}

var engravings = []string{"For %s, with love", "Happy birthday %s!", "%s - 10 years"}

// Catalogue: each category has nouns, options and a price range.
type category struct {
	productType string
	nouns       []string
	options     []optionSpec
	priceFrom   int64 // dollars
	priceTo     int64
	grams       int
}

type optionSpec struct {
	name   string
	values []string
	codes  []string
}

var sizesApparel = optionSpec{"Size", []string{"XS", "S", "M", "L", "XL"}, []string{"XS", "S", "M", "L", "XL"}}
var colors = optionSpec{"Color", []string{"White", "Black", "Navy", "Sage", "Rust", "Oatmeal"}, []string{"WHT", "BLK", "NVY", "SGE", "RST", "OAT"}}
var shoeSizes = optionSpec{"Size", []string{"38", "39", "40", "41", "42", "43", "44", "45"}, []string{"38", "39", "40", "41", "42", "43", "44", "45"}}
var materials = optionSpec{"Material", []string{"Cotton", "Linen", "Wool"}, []string{"COT", "LIN", "WOL"}}

var categories = []category{
	{"Shirts", []string{"Shirt", "Oxford Shirt", "Overshirt", "Tee", "Henley"}, []optionSpec{sizesApparel, colors}, 25, 95, 250},
	{"Knitwear", []string{"Sweater", "Cardigan", "Crewneck", "Beanie"}, []optionSpec{sizesApparel, colors}, 35, 160, 450},
	{"Shoes", []string{"Trail Runner", "Sneaker", "Chelsea Boot", "Loafer"}, []optionSpec{shoeSizes, colors}, 69, 229, 900},
	{"Bags", []string{"Tote", "Backpack", "Duffel", "Crossbody Bag"}, []optionSpec{colors}, 19, 189, 700},
	{"Home", []string{"Throw Blanket", "Cushion Cover", "Tea Towel", "Apron"}, []optionSpec{materials, colors}, 12, 120, 400},
	{"Accessories", []string{"Socks", "Scarf", "Cap", "Belt"}, []optionSpec{colors}, 9, 59, 120},
}

var adjectives = []string{
	"Linen", "Merino", "Canvas", "Organic", "Heritage", "Everyday", "Alpine", "Coastal", "Classic",
	"Ribbed", "Waxed", "Recycled", "Brushed", "Field", "Harbor", "Summit", "Nordic", "Weekend",
}

var vendors = []string{"Northbound", "Fieldhouse Supply", "Kettle & Pine", "Loomwork", "Saltmarsh Co."}

var productTags = []string{"new", "bestseller", "sale", "summer", "winter", "eco", "limited", "gift", "staff-pick"}

var orderTagsLater = []string{"gift", "wholesale", "priority", "reviewed", "vip"}

var trackingCompanies = []string{"UPS", "USPS", "FedEx", "DHL Express", "Canada Post"}
