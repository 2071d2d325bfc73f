"""The latest blessed model as an ordinary component output, for orchestrators without Resolvers."""
