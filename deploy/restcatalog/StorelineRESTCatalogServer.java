/*
 * Launcher for Apache Iceberg's REST catalog test server (RESTCatalogServer,
 * in the test-fixtures jar of org.apache.iceberg:iceberg-open-api) that binds
 * to one host only. Upstream's RESTCatalogServer.start builds a Jetty Server
 * on a port alone, i.e. on every interface; tests here must listen on the
 * loopback address, so this class does what that start() does (same backend
 * catalog from the same CATALOG_* variables and defaults, same adapter and
 * servlet, gzip) with a connector bound to REST_HOST (default 127.0.0.1).
 *
 * It sits in org.apache.iceberg.rest because RESTCatalogServer.CatalogContext
 * and RESTServerCatalogAdapter are package-private. deploy/restcatalog/fetch.sh
 * compiles it against the fetched jars (Iceberg 1.10.1, Jetty 11).
 *
 * Env: REST_HOST (default 127.0.0.1), REST_PORT (required), CATALOG_* (see
 * RCKUtils.environmentCatalogConfig: CATALOG_IO__IMPL -> io-impl, ...).
 * Prints "storeline-rest-catalog ready http://HOST:PORT" once serving.
 */
package org.apache.iceberg.rest;

import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.relocated.com.google.common.collect.Maps;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.gzip.GzipHandler;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

public final class StorelineRESTCatalogServer {
  private StorelineRESTCatalogServer() {}

  public static void main(String[] args) throws Exception {
    String host = System.getenv().getOrDefault("REST_HOST", "127.0.0.1");
    String port = System.getenv("REST_PORT");
    if (port == null || port.isEmpty()) {
      throw new IllegalArgumentException("REST_PORT is not set");
    }

    Map<String, String> props = Maps.newHashMap(RCKUtils.environmentCatalogConfig());
    props.putIfAbsent(CatalogProperties.CATALOG_IMPL, JdbcCatalog.class.getName());
    props.putIfAbsent(CatalogProperties.URI, "jdbc:sqlite::memory:");
    props.putIfAbsent("jdbc.schema-version", "V1");
    if (props.get(CatalogProperties.WAREHOUSE_LOCATION) == null) {
      throw new IllegalArgumentException("CATALOG_WAREHOUSE is not set");
    }
    String name = props.getOrDefault(RESTCatalogServer.CATALOG_NAME, "rest_backend");

    RESTCatalogServer.CatalogContext context =
        new RESTCatalogServer.CatalogContext(
            CatalogUtil.buildIcebergCatalog(name, props, new Configuration()), props);
    RESTCatalogServlet servlet = new RESTCatalogServlet(new RESTServerCatalogAdapter(context));

    ServletContextHandler handler = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    handler.addServlet(new ServletHolder(servlet), "/*");
    handler.insertHandler(new GzipHandler());

    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(Integer.parseInt(port));
    server.addConnector(connector);
    server.setHandler(handler);
    server.setStopAtShutdown(true);
    server.start();
    System.out.println("storeline-rest-catalog ready http://" + host + ":" + connector.getLocalPort());
    System.out.flush();
    server.join();
  }
}
