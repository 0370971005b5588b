package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/storeline/storeline/app"
)

func piiCmd() *cobra.Command {
	pii := &cobra.Command{Use: "pii", Short: "Customers' personal data: crypto-shredding"}
	var shop string
	var customers, orders []int64
	var wholeShop bool
	shred := &cobra.Command{
		Use:   "shred --shop S (--customer ID... [--order ID...] | --whole-shop)",
		Short: "Destroy the keys sealing a customer's (or a whole shop's) personal data: every sealed copy, on the topics, in the lake and in backups of them, becomes unreadable",
		Long: `Destroys the data keys that seal personal data in the event log (see pii/README.md), as the
customers/redact and shop/redact webhooks do. Irreversible. Read models holding personal data in
clear are erased by their own redaction handlers, not by this command.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if shop == "" {
				return errors.New("--shop is required")
			}
			var subjects []string
			for _, c := range customers {
				subjects = append(subjects, "customer/"+strconv.FormatInt(c, 10))
			}
			for _, o := range orders {
				subjects = append(subjects, "order/"+strconv.FormatInt(o, 10))
			}
			if wholeShop == (len(subjects) > 0) {
				return errors.New("give --customer/--order ids, or --whole-shop, not both")
			}
			cfg, log, err := load(cmd)
			if err != nil {
				return err
			}
			n, err := app.Shred(cmd.Context(), cfg, log, shop, subjects, wholeShop)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "shredded %d key(s)\n", n)
			return nil
		},
	}
	shred.Flags().StringVar(&shop, "shop", "", "the shop's myshopify domain")
	shred.Flags().Int64SliceVar(&customers, "customer", nil, "Shopify customer id (repeatable)")
	shred.Flags().Int64SliceVar(&orders, "order", nil, "Shopify order id whose guest or refund data to shred (repeatable)")
	shred.Flags().BoolVar(&wholeShop, "whole-shop", false, "every key of the shop")
	pii.AddCommand(shred)
	return pii
}
