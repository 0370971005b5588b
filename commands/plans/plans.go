// Package plans decides the dashboard's combo plan commands (Plan Specifications): create, edit
// and the moves through the plan's states (see transitions.go). It validates what the merchant
// wrote, turns it into publication.ComboPlanCreated / ComboPlanChanged / ComboPlanStateChanged,
// and keeps the aggregate's state; package decision runs it in a transaction with the version
// check and the outbox.
package plans

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/fielderr"
	"github.com/storeline/storeline/commands/objectives"
	"github.com/storeline/storeline/commands/shopifyid"
	"github.com/storeline/storeline/events"
)

// AggregateType is the combo plans' aggregate type in envelopes and the aggregates table.
const AggregateType = "ComboPlan"

// Spec is a plan's content as the merchant writes it (the body of create and update). The state
// is not part of it: only the moves change it.
type Spec struct {
	Name        string        `json:"name" minLength:"1" maxLength:"200" doc:"Name of the plan, e.g. Summer picnic set."`
	Description *string       `json:"description,omitempty" maxLength:"2000" doc:"What the plan is about, for the merchant's team."`
	Items       []ItemSpec    `json:"items,omitempty" maxItems:"50" doc:"The products of the combo, in the merchant's order; at least one to approve the plan."`
	Discount    *DiscountSpec `json:"discount,omitempty" doc:"Discount on one whole combo, after the items' own."`
	ObjectiveID *string       `json:"objective_id,omitempty" format:"uuid" doc:"An objective of the shop the plan works toward."`
	StartsOn    *string       `json:"starts_on,omitempty" format:"date" doc:"First day the combo is to be promoted."`
	EndsOn      *string       `json:"ends_on,omitempty" format:"date" doc:"Last day the combo is to be promoted (inclusive)."`
}

// ItemSpec is one product of the combo.
type ItemSpec struct {
	ProductID string        `json:"product_id" minLength:"1" maxLength:"64" doc:"Shopify product id, numeric or gid://shopify/Product/<id>."`
	VariantID *string       `json:"variant_id,omitempty" maxLength:"64" doc:"Shopify variant id, numeric or gid://shopify/ProductVariant/<id>, when the combo needs that variant; any variant when absent."`
	Title     *string       `json:"title,omitempty" maxLength:"500" doc:"Product (and variant) title, for display."`
	Quantity  int32         `json:"quantity" minimum:"1" maximum:"10000" doc:"Units of the product in one combo."`
	Discount  *DiscountSpec `json:"discount,omitempty" doc:"Discount on this item's units when bought as part of the combo."`
}

// DiscountSpec is a discount: percentage (0 to 100) for kind percentage, amount for fixed_amount
// (that much off) and fixed_price (costs exactly that).
type DiscountSpec struct {
	Kind       string   `json:"kind" enum:"percentage,fixed_amount,fixed_price" doc:"percentage, fixed_amount or fixed_price."`
	Percentage *float64 `json:"percentage,omitempty" minimum:"0" maximum:"100" doc:"Percent off, 0 to 100, for percentage."`
	Amount     *string  `json:"amount,omitempty" pattern:"^[0-9]{1,16}(\\.[0-9]{1,4})?$" doc:"Decimal amount for fixed_amount and fixed_price."`
	Currency   *string  `json:"currency,omitempty" pattern:"^[A-Z]{3}$" doc:"ISO 4217 currency of amount; the shop's when absent."`
}

// Plan is a plan as the API shows it, in the read model's shape (projections/plans.Plan): ids
// as strings, money as decimal strings, dates as YYYY-MM-DD. It is also the aggregate's state
// (with Version 0): the answer to a command is the state with its version.
type Plan struct {
	ID                 string     `json:"id"`
	Shop               string     `json:"shop"`
	Name               string     `json:"name"`
	Description        *string    `json:"description"`
	State              string     `json:"state"`
	Items              []Item     `json:"items"`
	Discount           *Discount  `json:"discount"`
	ObjectiveID        *string    `json:"objective_id"`
	StartsOn           *string    `json:"starts_on"`
	EndsOn             *string    `json:"ends_on"`
	SourceSuggestionID *string    `json:"source_suggestion_id"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	StateChangedAt     *time.Time `json:"state_changed_at"`
	StateReason        *string    `json:"state_reason"`
	Version            int64      `json:"version"`
}

// Item is one product of a combo; VariantID null means any variant.
type Item struct {
	ProductID  string    `json:"product_id"`
	ProductGID string    `json:"product_gid"`
	VariantID  *string   `json:"variant_id"`
	VariantGID *string   `json:"variant_gid"`
	Title      *string   `json:"title"`
	Quantity   int32     `json:"quantity"`
	Discount   *Discount `json:"discount"`
}

// Discount is a resolved discount: the amount's currency is always given.
type Discount struct {
	Kind       string   `json:"kind"`
	Percentage *float64 `json:"percentage"`
	Amount     *string  `json:"amount"`
	Currency   *string  `json:"currency"`
}

// Validate checks what the request's schema cannot (and, for callers without the schema, what
// it can too): ids, quantities, discounts, dates.
func Validate(s Spec) error {
	var errs fielderr.List
	if strings.TrimSpace(s.Name) == "" {
		errs.Add("body.name", "a name cannot be blank", s.Name)
	}
	type pv struct{ p, v int64 }
	seen := map[pv]int{}
	for i, it := range s.Items {
		loc := "body.items[" + strconv.Itoa(i) + "]"
		p, err := shopifyid.Parse(it.ProductID, "Product")
		if err != nil {
			errs.Add(loc+".product_id", err.Error(), it.ProductID)
		}
		var v int64
		if it.VariantID != nil {
			if v, err = shopifyid.Parse(*it.VariantID, "ProductVariant"); err != nil {
				errs.Add(loc+".variant_id", err.Error(), *it.VariantID)
			}
		}
		if it.Quantity < 1 {
			errs.Add(loc+".quantity", "a combo has at least 1 unit of each item", it.Quantity)
		}
		if p > 0 {
			if j, dup := seen[pv{p, v}]; dup {
				errs.Add(loc, fmt.Sprintf("the same product (and variant) as items[%d]: raise its quantity instead", j), it.ProductID)
			} else {
				seen[pv{p, v}] = i
			}
		}
		validateDiscount(&errs, loc+".discount", it.Discount)
	}
	validateDiscount(&errs, "body.discount", s.Discount)
	if s.ObjectiveID != nil {
		if _, err := uuid.Parse(*s.ObjectiveID); err != nil {
			errs.Add("body.objective_id", "not an objective id (UUID)", *s.ObjectiveID)
		}
	}
	start, errStart := optDate(s.StartsOn)
	if errStart != nil {
		errs.Add("body.starts_on", errStart.Error(), *s.StartsOn)
	}
	end, errEnd := optDate(s.EndsOn)
	if errEnd != nil {
		errs.Add("body.ends_on", errEnd.Error(), *s.EndsOn)
	}
	if start != nil && end != nil && end.Before(*start) {
		errs.Add("body.ends_on", "ends_on is before starts_on", *s.EndsOn)
	}
	return errs.Err()
}

func validateDiscount(errs *fielderr.List, loc string, d *DiscountSpec) {
	if d == nil {
		return
	}
	switch d.Kind {
	case "percentage":
		switch {
		case d.Percentage == nil:
			errs.Add(loc+".percentage", "a percentage discount needs percentage (0 to 100)", nil)
		case *d.Percentage < 0 || *d.Percentage > 100:
			errs.Add(loc+".percentage", "a percentage is from 0 to 100", *d.Percentage)
		}
		if d.Amount != nil {
			errs.Add(loc+".amount", "a percentage discount has no amount", *d.Amount)
		}
		if d.Currency != nil {
			errs.Add(loc+".currency", "a percentage discount has no currency", *d.Currency)
		}
	case "fixed_amount", "fixed_price":
		if d.Amount == nil {
			errs.Add(loc+".amount", "a "+d.Kind+" discount needs amount", nil)
		} else if r, ok := new(big.Rat).SetString(*d.Amount); !ok || r.Sign() < 0 || !fourDecimals(r) {
			errs.Add(loc+".amount", "want a decimal amount, at least 0, with at most 4 decimal places", *d.Amount)
		} else if d.Kind == "fixed_amount" && r.Sign() == 0 {
			errs.Add(loc+".amount", "a fixed_amount discount takes something off", *d.Amount)
		}
		if d.Percentage != nil {
			errs.Add(loc+".percentage", "a "+d.Kind+" discount has no percentage", *d.Percentage)
		}
	default:
		errs.Add(loc+".kind", "want percentage, fixed_amount or fixed_price", d.Kind)
	}
}

// fourDecimals: r × 10⁴ is whole (the events' Money is exact to 4 decimal places).
func fourDecimals(r *big.Rat) bool {
	return new(big.Rat).Mul(r, big.NewRat(10000, 1)).IsInt()
}

// content builds a plan's content from a valid spec: ids in both spellings, amounts trimmed with
// their currency (the shop's when not given).
func content(p *Plan, s Spec, shopCurrency string) error {
	p.Name, p.Description, p.ObjectiveID = strings.TrimSpace(s.Name), s.Description, s.ObjectiveID
	if p.ObjectiveID != nil {
		id := uuid.MustParse(*p.ObjectiveID).String()
		p.ObjectiveID = &id
	}
	p.StartsOn, p.EndsOn = canonicalDate(s.StartsOn), canonicalDate(s.EndsOn)
	p.Items = make([]Item, len(s.Items))
	for i, it := range s.Items {
		n, _ := shopifyid.Parse(it.ProductID, "Product")
		item := Item{ProductID: strconv.FormatInt(n, 10), ProductGID: shopifyid.GID("Product", n), Title: it.Title, Quantity: it.Quantity}
		if it.VariantID != nil {
			v, _ := shopifyid.Parse(*it.VariantID, "ProductVariant")
			id, gid := strconv.FormatInt(v, 10), shopifyid.GID("ProductVariant", v)
			item.VariantID, item.VariantGID = &id, &gid
		}
		d, err := discount(it.Discount, shopCurrency, "body.items["+strconv.Itoa(i)+"].discount")
		if err != nil {
			return err
		}
		item.Discount = d
		p.Items[i] = item
	}
	d, err := discount(s.Discount, shopCurrency, "body.discount")
	p.Discount = d
	return err
}

func discount(d *DiscountSpec, shopCurrency, loc string) (*Discount, error) {
	if d == nil {
		return nil, nil
	}
	out := &Discount{Kind: d.Kind, Percentage: d.Percentage}
	if d.Amount != nil {
		r, _ := new(big.Rat).SetString(*d.Amount)
		amount := strings.TrimSuffix(strings.TrimRight(r.FloatString(4), "0"), ".")
		currency := shopCurrency
		if d.Currency != nil {
			currency = *d.Currency
		}
		if currency == "" {
			return nil, fielderr.One(loc+".currency", "the shop's currency is not known: give the currency", nil)
		}
		out.Amount, out.Currency = &amount, &currency
	}
	return out, nil
}

// checkObjective refuses an objective that is not a live objective of the shop.
func checkObjective(ctx context.Context, tx pgx.Tx, shop string, id *string) error {
	if id == nil {
		return nil
	}
	var removed bool
	err := tx.QueryRow(ctx, `SELECT coalesce((state->>'removed')::boolean, false) FROM aggregates
		WHERE aggregate_type = $1 AND aggregate_id = $2 AND shop = $3`, objectives.AggregateType, *id, shop).Scan(&removed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fielderr.One("body.objective_id", "no such objective in this shop", *id)
	case err != nil:
		return fmt.Errorf("check objective %s: %w", *id, err)
	case removed:
		return decision.Reject("objective %s was removed; choose another", *id)
	}
	return nil
}

// Create creates the plan, as a draft.
func Create(id, shop string, s Spec, shopCurrency string, now time.Time) decision.Decide {
	return func(ctx context.Context, tx pgx.Tx, _ decision.Current) (decision.Outcome, error) {
		now := stamp(now)
		p := Plan{ID: id, Shop: shop, State: StateDraft, CreatedAt: now, UpdatedAt: now}
		if err := content(&p, s, shopCurrency); err != nil {
			return decision.Outcome{}, err
		}
		if err := checkObjective(ctx, tx, shop, p.ObjectiveID); err != nil {
			return decision.Outcome{}, err
		}
		plan, err := toEvent(p)
		if err != nil {
			return decision.Outcome{}, err
		}
		ev := &events.ComboPlanCreated{Envelope: events.Envelope{EventType: events.TypeComboPlanCreated, OccurredAt: now}, Plan: plan}
		return decision.Outcome{Events: []events.Event{ev}, State: p, Status: 201, Response: view(p)}, nil
	}
}

// Update saves new content. Only a draft is edited: an approved plan is reopened first, so what
// was approved is what is published. Content equal to the plan's changes nothing.
func Update(id string, s Spec, shopCurrency string, now time.Time) decision.Decide {
	return func(ctx context.Context, tx pgx.Tx, cur decision.Current) (decision.Outcome, error) {
		now := stamp(now)
		old, err := load(cur)
		if err != nil {
			return decision.Outcome{}, err
		}
		switch old.State {
		case StateDraft:
		case StateApproved:
			return decision.Outcome{}, decision.Reject("an approved plan cannot be edited: reopen it first")
		case StatePublished:
			return decision.Outcome{}, decision.Reject("a published plan cannot be edited: archive it, restore it as a draft, and edit that")
		default:
			return decision.Outcome{}, decision.Reject("an archived plan cannot be edited: restore it first")
		}
		p := old
		if err := content(&p, s, shopCurrency); err != nil {
			return decision.Outcome{}, err
		}
		changed := changedFields(old, p)
		if len(changed) == 0 {
			return decision.Outcome{Unchanged: true, Response: view(old)}, nil
		}
		if err := checkObjective(ctx, tx, old.Shop, p.ObjectiveID); err != nil {
			return decision.Outcome{}, err
		}
		p.UpdatedAt = now
		plan, err := toEvent(p)
		if err != nil {
			return decision.Outcome{}, err
		}
		ev := &events.ComboPlanChanged{Envelope: events.Envelope{EventType: events.TypeComboPlanChanged, OccurredAt: now},
			Plan: plan, ChangedFields: changed}
		return decision.Outcome{Events: []events.Event{ev}, State: p, Response: view(p)}, nil
	}
}

func load(cur decision.Current) (Plan, error) {
	var p Plan
	if err := json.Unmarshal(cur.State, &p); err != nil {
		return Plan{}, fmt.Errorf("combo plan state: %w", err)
	}
	return p, nil
}

func view(p Plan) func(int64) any {
	return func(version int64) any {
		p.Version = version
		if p.Items == nil {
			p.Items = []Item{}
		}
		return p
	}
}

// changedFields names the content fields (as ComboPlan names them) that differ.
func changedFields(a, b Plan) []string {
	var out []string
	eq := func(x, y any) bool {
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		return string(jx) == string(jy)
	}
	for _, f := range []struct {
		name string
		x, y any
	}{{"name", a.Name, b.Name}, {"description", a.Description, b.Description}, {"items", a.Items, b.Items},
		{"discount", a.Discount, b.Discount}, {"objective_id", a.ObjectiveID, b.ObjectiveID},
		{"starts_on", a.StartsOn, b.StartsOn}, {"ends_on", a.EndsOn, b.EndsOn}} {
		if !eq(f.x, f.y) {
			out = append(out, f.name)
		}
	}
	return out
}

// toEvent renders the plan as the events carry it.
func toEvent(p Plan) (events.ComboPlan, error) {
	out := events.ComboPlan{PlanID: p.ID, Name: p.Name, Description: p.Description, State: p.State,
		Items: make([]events.ComboPlanItem, len(p.Items)), ObjectiveID: p.ObjectiveID, SourceSuggestionID: p.SourceSuggestionID,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	var err error
	if out.Discount, err = eventDiscount(p.Discount); err != nil {
		return out, err
	}
	for i, it := range p.Items {
		n, err := strconv.ParseInt(it.ProductID, 10, 64)
		if err != nil {
			return out, fmt.Errorf("combo plan item product id %q: %w", it.ProductID, err)
		}
		e := events.ComboPlanItem{ProductID: n, ProductGID: it.ProductGID, VariantGID: it.VariantGID, Title: it.Title, Quantity: it.Quantity}
		if it.VariantID != nil {
			v, err := strconv.ParseInt(*it.VariantID, 10, 64)
			if err != nil {
				return out, fmt.Errorf("combo plan item variant id %q: %w", *it.VariantID, err)
			}
			e.VariantID = &v
		}
		if e.Discount, err = eventDiscount(it.Discount); err != nil {
			return out, err
		}
		out.Items[i] = e
	}
	if out.StartsOn, err = optDate(p.StartsOn); err != nil {
		return out, err
	}
	if out.EndsOn, err = optDate(p.EndsOn); err != nil {
		return out, err
	}
	return out, nil
}

func eventDiscount(d *Discount) (*events.ComboDiscount, error) {
	if d == nil {
		return nil, nil
	}
	out := &events.ComboDiscount{Kind: d.Kind, Percentage: d.Percentage}
	if d.Amount != nil {
		r, ok := new(big.Rat).SetString(*d.Amount)
		if !ok || d.Currency == nil {
			return nil, fmt.Errorf("combo discount amount %q: not a decimal with a currency", *d.Amount)
		}
		out.Amount = &events.Money{Amount: r, CurrencyCode: *d.Currency}
	}
	return out, nil
}

func optDate(s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, *s)
	if err != nil {
		return nil, errors.New("not a date (YYYY-MM-DD)")
	}
	return &t, nil
}

func canonicalDate(s *string) *string {
	t, err := optDate(s)
	if err != nil || t == nil {
		return nil
	}
	out := t.Format(time.DateOnly)
	return &out
}

// stamp is the time a decision records: UTC, to the microsecond, as the events carry it.
func stamp(now time.Time) time.Time { return now.UTC().Truncate(time.Microsecond) }
